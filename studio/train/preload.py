"""What the training fork server imports once, so that every run forked from it starts warm.

A `Launcher` whose warm-up names this module (`launcher.REHEARSAL`) has the
fork server import it; importing it is the warm-up (`rehearsal.warm_process`).
Nothing else should import this module.
"""

from studio.train.rehearsal import warm_process

warm_process()
