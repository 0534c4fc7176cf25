"""Quality of every task preset's recipe after a longer CPU run: the four recipe benches in turn.

Each part is its own script (run one alone for one family of presets) and
prints its own ``name: value`` lines; this one runs them one after another, in
fresh processes so no part's threads or caches colour another's figures:

    recipes_sequences.py   rnn/lstm/gru classifiers, fasttext, lstm_lm, word2vec
    recipes_attention.py   transformer (greedy, beam), seq2seq_attention, self_attention, bert_mini
    recipes_generative.py  gan_mlp, dcgan, rbm
    recipes_rl.py          dqn_cartpole, actor_critic

    python bench/recipes.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PARTS = ("recipes_sequences.py", "recipes_attention.py", "recipes_generative.py", "recipes_rl.py")


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = [part for part in PARTS if subprocess.run([sys.executable, str(here / part)]).returncode != 0]
    for part in failed:
        print(f"{part} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
