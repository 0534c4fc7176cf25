"""The one-line summary of an epoch's figures never comes out empty when there are figures."""

from studio.train.metric_registry import summary_line


def test_a_gan_without_validation_data_still_shows_its_losses():
    line = summary_line({"epoch": 1, "train_d_loss": 0.693, "train_g_loss": 1.25, "lr": 0.0002})
    assert line == "train d loss 0.693, train g loss 1.25, lr 0.0002"


def test_the_summary_figures_come_first_when_there_are_some():
    assert summary_line({"train_loss": 0.5, "val_loss": 0.25, "lr": 0.1}) == "train loss 0.5000, val loss 0.2500"
