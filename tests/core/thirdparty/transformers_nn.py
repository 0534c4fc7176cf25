"""Transformer models built from torch's nn.TransformerEncoder / nn.TransformerDecoder stacks."""

import math

import torch
import torch.nn as nn


class TextTransformer(nn.Module):
    """Encoder classifier with a learned position embedding and mean pooling."""

    def __init__(self, vocab=40, d_model=16, nhead=4, layers=2, max_len=12, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos_embedding = nn.Parameter(torch.randn(1, max_len, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=32, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens):
        x = self.embed(tokens) * math.sqrt(self.embed.embedding_dim)
        x = x + self.pos_embedding
        x = self.encoder(x)
        return self.head(x.mean(dim=1))


class TinyGPT(nn.Module):
    """Decoder-only language model: encoder layers under a causal mask."""

    def __init__(self, vocab=30, d_model=16, nhead=2, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        block = nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, idx):
        x = self.tok(idx)
        mask = nn.Transformer.generate_square_subsequent_mask(idx.size(1))
        x = self.blocks(x, mask=mask, is_causal=True)
        return self.lm_head(self.ln_f(x))


class Seq2Seq(nn.Module):
    """Encoder-decoder in the pre-batch_first style: (seq, batch, d) tensors, transposed at both ends."""

    def __init__(self, d_model=16, nhead=4, layers=2):
        super().__init__()
        self.src_proj = nn.Linear(5, d_model)
        self.tgt_proj = nn.Linear(7, d_model)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers=layers, num_decoder_layers=layers,
                                          dim_feedforward=32, dropout=0.1)
        self.out = nn.Linear(d_model, 7)

    def forward(self, src, tgt):
        src = self.src_proj(src).transpose(0, 1)
        tgt = self.tgt_proj(tgt).transpose(0, 1)
        tgt_mask = self.transformer.generate_square_subsequent_mask(tgt.size(0))
        out = self.transformer(src, tgt, tgt_mask=tgt_mask)
        return self.out(out.transpose(0, 1))
