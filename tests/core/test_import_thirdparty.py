"""Third-party-style models (tests/core/thirdparty/, written as their projects write them) import faithfully.

For each: the imported network holds the module's parameters, computes its
outputs on new inputs, loads the module's own checkpoint (and gives trained
weights back under the module's keys), and its generated Python imports back
to the same graph.
"""

import copy
import importlib.util
import itertools
from pathlib import Path

import pytest
import torch

from studio.compile import compile_network, project_source
from studio.compile.fx import class_name_for
from studio.compile.weights import apply_weights, load_weights, to_original
from studio.export import import_from_path, import_module
from studio.graph import io
from studio.export.module_loader import load_class

HERE = Path(__file__).parent / "thirdparty"
# nn.Transformer builds its encoder with the nested-tensor fast path and says it cannot use it (batch_first=False).
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
_names = itertools.count()

# file:Class, constructor keywords, one sample's shape(s), dtype
MODELS = {
    "densenet": ("densenet.py:DenseNet", {}, (3, 32, 32), "float"),
    "resnet": ("resnet.py:ResNet", {}, (3, 32, 32), "float"),
    "mobilenet_v2": ("mobilenetv2.py:MobileNetV2", {}, (3, 32, 32), "float"),
    "unet_transposed": ("unet.py:UNet", {"n_channels": 3, "n_classes": 2}, (3, 36, 36), "float"),
    "unet_bilinear": ("unet.py:UNet", {"n_channels": 3, "n_classes": 2, "bilinear": True}, (3, 36, 36), "float"),
    "lstm_hidden": ("rnn_classifiers.py:LSTMClassifier", {}, (9,), "long"),
    "bigru_hidden": ("rnn_classifiers.py:BiGRUClassifier", {}, (9,), "long"),
    "rnn_last_step": ("rnn_classifiers.py:LastStepTagger", {}, (7, 6), "float"),
    "lstm_seq_first": ("rnn_classifiers.py:SeqFirstLSTM", {}, (7, 6), "float"),
    "transformer_encoder": ("transformers_nn.py:TextTransformer", {}, (12,), "long"),
    "gpt_causal": ("transformers_nn.py:TinyGPT", {}, (10,), "long"),
    "transformer_seq_first": ("transformers_nn.py:Seq2Seq", {}, [(6, 5), (4, 7)], "float"),
    "vit_parameters": ("vit.py:ViT", {}, (3, 16, 16), "float"),
    "efficientnet_same_padding": ("efficientnet.py:EfficientNet", {}, (3, 32, 32), "float"),
    "fpn_interpolate": ("fpn.py:FPN", {}, (3, 32, 32), "float"),
}


def inputs(shape, dtype, batch, seed=1):
    shapes = shape if isinstance(shape[0], (tuple, list)) else [shape]
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randint(1, 20, (batch, *s), generator=g) if dtype == "long" else torch.randn(batch, *s, generator=g)
                 for s in shapes)


def original(spec, args):
    torch.manual_seed(0)
    module = load_class(str(HERE / spec))(**args)
    for m in module.modules():  # trained-looking statistics, so batch norm is not the identity
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return module.eval()


def graph_of(project):
    """Nodes (name, type, parameters) and edges of every network and block: what "the same graph" means."""
    def of(net):
        name = {n.id: n.name for n in net.nodes.values()}
        return ([(n.name, n.type, n.params) for n in net.iter_nodes()],
                sorted((name[e.src], e.src_port, name[e.dst], e.dst_port) for e in net.edges))
    return of(project.network()), {b.name: (b.params, of(b.network)) for b in project.blocks.values()}


def generated_class(project, folder):
    """The class `studio code` writes for the project, imported from a file as a user would."""
    path = folder / f"generated_{next(_names)}.py"
    path.write_text(project_source(project))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, class_name_for(project.name))


@pytest.fixture(scope="module", params=sorted(MODELS))
def imported(request):
    spec, args, shape, dtype = MODELS[request.param]
    module = original(spec, args)
    result = import_module(module, inputs(shape, dtype, 2, seed=0), spec.split(":")[1])
    return module, result, shape, dtype


def test_parameters_are_the_modules(imported):
    module, result, _, _ = imported
    model = compile_network(result.project)
    theirs = module.state_dict()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in module.parameters())
    assert set(result.original_keys.values()) == set(theirs)
    for key, value in result.state_dict.items():
        assert torch.equal(value, theirs[result.original_keys[key]]), key


def test_outputs_are_the_modules_on_new_inputs(imported):
    module, result, shape, dtype = imported
    model = compile_network(result.project)
    model.load_state_dict(result.state_dict)
    x = inputs(shape, dtype, 3)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(*x), module(*x), rtol=1e-4, atol=1e-5)


def test_generated_python_imports_back_to_the_same_graph(imported, tmp_path):
    module, result, shape, dtype = imported
    regenerated = generated_class(result.project, tmp_path)()
    regenerated.load_state_dict(result.state_dict)
    x = inputs(shape, dtype, 3)
    with torch.no_grad():
        torch.testing.assert_close(regenerated.eval()(*x), module(*x), rtol=1e-4, atol=1e-5)
    again = import_module(regenerated, inputs(shape, dtype, 2, seed=0), result.project.name)
    assert graph_of(again.project) == graph_of(result.project)
    assert again.state_dict.keys() == result.state_dict.keys()


def test_the_command_imports_a_file_with_sibling_modules():
    spec, args, shape, dtype = MODELS["unet_bilinear"]
    result = import_from_path(str(HERE / spec), args, shape, dtype=dtype)  # unet.py does `from unet_parts import *`
    types = {n.type for net in result.project.all_networks() for n in net.nodes.values()}
    assert types >= {"PadTo", "Upsample", "Concat"}


def test_the_original_checkpoint_loads_and_trained_weights_go_back(imported, tmp_path):
    module, result, shape, dtype = imported
    checkpoint = tmp_path / "original.pt"
    torch.save(module.state_dict(), checkpoint)
    project = io.loads(io.dumps(result.project))  # as saved and opened again
    report = load_weights(project, checkpoint)
    assert report.ok, report.summary()
    model = compile_network(project)
    apply_weights(model, report)
    x = inputs(shape, dtype, 3)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(*x), module(*x), rtol=1e-4, atol=1e-5)
        for p in model.parameters():  # "trained" in studio: the module takes the weights back by its own names
            p.mul_(0.5)
        back = copy.deepcopy(module)
        back.load_state_dict(to_original(project, project.network().name, model.state_dict()))
        torch.testing.assert_close(back(*x), model(*x), rtol=1e-4, atol=1e-5)


def instances(project, block):
    return sum(n.params.get("repeat", 1) for net in project.all_networks() for n in net.nodes.values()
               if n.type == "Block" and n.params.get("block") == block)


def test_repeated_submodules_become_shared_blocks_laid_out_in_bands():
    dense = import_module(original(*MODELS["densenet"][:2]), inputs((3, 32, 32), "float", 2), "DenseNet").project
    # every dense layer is one definition (its torch.cat stays outside); the dense blocks of 2 and 3 layers
    assert set(dense.blocks) == {"DenseLayer", "DenseBlock", "DenseBlock2", "Transition", "Features"}
    assert instances(dense, "DenseLayer") == 2 + 3
    assert [n.name for n in dense.network().iter_nodes()] == ["x", "features", "relu", "adaptive_avg_pool2d",
                                                              "flatten", "classifier", "out"]
    assert dense.block("Transition").params == {"out_channels": 16}  # the number that differs is an argument
    resnet = import_module(original(*MODELS["resnet"][:2]), inputs((3, 32, 32), "float", 2), "ResNet").project
    assert resnet.network().by_name("layer1").params == {"block": "BasicBlock", "out_channels": 8, "repeat": 2}
    mobile = import_module(original(*MODELS["mobilenet_v2"][:2]), inputs((3, 32, 32), "float", 2), "M").project
    features = mobile.block("Features").network
    assert [n.name for n in features.iter_nodes()][1:4] == ["conv2dnormactivation_0", "invertedresidual_1",
                                                            "invertedresidual_2"]
    for project in (dense, resnet, mobile):
        for net in project.all_networks():
            spots = [n.pos for n in net.nodes.values()]
            assert len(set(spots)) == len(spots)  # no two nodes on one spot
            assert max(x for x, _ in spots) <= 12 * 230  # long chains fold into bands
