"""What the terminal shows of the run's log: readable lines, not JSON."""

from geovario.train.runlog import settings_line


def test_the_loss_settings_line_reads_as_words_and_kilometres():
    line = settings_line("semivariogram", {"rule": "abstract", "range_km": 1580.4,
                                           "hard_strength": 2.0, "hard_margin": 0.5,
                                           "false_negatives": "downweight"})
    assert line == ("train: semivariogram loss: rule abstract, range 1,580 km, hard strength 2, "
                    "hard margin 0.5, false negatives downweight")
