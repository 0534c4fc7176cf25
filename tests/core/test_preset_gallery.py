"""What the gallery knows about each preset: its kind, size and data, and a description of its own."""

from studio.presets import CATEGORIES, list_presets


def test_every_preset_has_a_description_of_its_own():
    infos = list_presets()
    assert len({i.description for i in infos}) == len(infos)


def test_every_preset_has_a_kind_a_parameter_count_and_data():
    by_name = {i.name: i for i in list_presets()}
    assert all(i.category in CATEGORIES and i.params and i.trains_on for i in by_name.values())
    assert by_name["lenet5"].category == "vision" and by_name["lenet5"].params == 61_706
    assert by_name["transformer"].category == "sequence" and by_name["dqn_cartpole"].category == "RL"
    assert by_name["dcgan"].category == "generative" and by_name["mlp_xor"].category == "other"
