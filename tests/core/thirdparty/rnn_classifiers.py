"""Text classifiers as tutorials and course notebooks write them (bentrevett/pytorch-sentiment-analysis style)."""

import torch
import torch.nn as nn


class LSTMClassifier(nn.Module):
    """Classifies from the last hidden state: _, (h_n, _) = self.lstm(x); h_n[-1]."""

    def __init__(self, vocab_size=50, embed_dim=16, hidden_dim=24, num_layers=2, num_classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True, dropout=0.2)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(hidden_dim, num_classes)

    def forward(self, text):
        embedded = self.dropout(self.embedding(text))
        _, (h_n, _) = self.lstm(embedded)
        return self.fc(self.dropout(h_n[-1]))


class BiGRUClassifier(nn.Module):
    """Joins both directions' last hidden states: torch.cat((hidden[-2,:,:], hidden[-1,:,:]), dim=1)."""

    def __init__(self, vocab_size=50, embed_dim=16, hidden_dim=12, output_dim=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.GRU(embed_dim, hidden_dim, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(hidden_dim * 2, output_dim)

    def forward(self, text):
        embedded = self.embedding(text)
        output, hidden = self.rnn(embedded)
        hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
        return self.fc(hidden)


class LastStepTagger(nn.Module):
    """Reads the output at the last time step: out[:, -1, :]."""

    def __init__(self, input_size=6, hidden_size=10, num_classes=4):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


class SeqFirstLSTM(nn.Module):
    """batch_first=False with the permutes around it, as the older PyTorch tutorials write it."""

    def __init__(self, input_size=6, hidden_size=10, num_classes=4):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size)
        self.norm = nn.LayerNorm(hidden_size)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        x = x.permute(1, 0, 2)  # (seq, batch, feature)
        out, _ = self.lstm(x)
        out = self.norm(out)
        return self.fc(out[-1])
