"""The names that divide a dataset, light enough for a command's ``--help``.

``--split`` always names a part of a dataset, train or test (OSV-5M, a Blue Marble
build). How a Blue Marble build lays its test places out against its train places is a
*layout*, ``--layout``: ``blocked`` (unseen regions), ``interleaved`` (OSV-5M-like) or
``fine`` (each test place 0.5-5 km from a training place);
see :mod:`geovario.data.bluemarble`.
"""

#: The parts of a dataset (``--split`` of ``download``, ``extract``).
SPLITS = ("train", "test")
#: Blue Marble layouts (``--layout`` of ``bluemarble build`` and ``demo``): the one list
#: every command takes its choices from.
LAYOUTS = ("blocked", "interleaved", "fine")
