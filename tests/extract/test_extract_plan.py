import numpy as np
import pytest

from geovario.data.samples import SampleTable
from geovario.extract.plan import plan_chunks, rank_chunks
from geovario.extract.skiplog import SkipLog


class Reader:
    def __init__(self, missing):
        self.missing = set(missing)

    def available(self, rows):
        return np.array([r not in self.missing for r in rows], dtype=bool)

    def read(self, row):
        raise AssertionError("planning reads no image")


def table(n, *, bad_coords=(), missing=()):
    coords = np.zeros((n, 2))
    coords[list(bad_coords), 0] = 91.0
    return SampleTable(source="t", ids=np.array([f"i{k}" for k in range(n)], dtype=object),
                       coords=coords, reader=Reader(missing))


@pytest.mark.parametrize("n_rows, chunk, world", [(10, 3, 2), (100, 7, 3), (5, 10, 4), (0, 4, 2)])
def test_ranks_get_contiguous_near_equal_shares_covering_every_chunk(n_rows, chunk, world):
    shares = [rank_chunks(n_rows, chunk, r, world) for r in range(world)]
    assert [c for share in shares for c in share] == list(range(-(-n_rows // chunk)))
    sizes = [len(s) for s in shares]
    assert max(sizes) - min(sizes) <= 1


def test_batches_are_cut_from_each_chunk_start_and_bad_rows_go_to_skipped():
    samples = table(11, bad_coords=[1], missing=[5])
    plan = plan_chunks(samples, set(), range(0, 3), chunk_size=4, batch_size=2)
    assert [c.number for c in plan] == [0, 1, 2]
    assert [[b.tolist() for b in c.batches] for c in plan] == [[[0, 2], [3]], [[4, 6], [7]],
                                                               [[8, 9], [10]]]
    assert plan[0].skipped == [(1, "invalid coordinates", "(91.0, 0.0)")]
    assert plan[1].skipped == [(5, "missing image", "not in the dataset's images")]
    assert [c.rows for c in plan] == [4, 4, 3]


def test_done_ids_drop_committed_chunks_and_a_rank_plans_only_its_share():
    samples = table(12, bad_coords=[2])
    done = {f"i{k}" for k in range(4) if k != 2}  # chunk 0 committed, its bad row left over
    plan = plan_chunks(samples, done, range(0, 3), chunk_size=4, batch_size=4)
    assert plan[0].batches == [] and [s[0] for s in plan[0].skipped] == [2]
    fresh = plan_chunks(samples, set(), range(0, 3), chunk_size=4, batch_size=4)
    assert [b.tolist() for c in plan[1:] for b in c.batches] == \
        [b.tolist() for c in fresh[1:] for b in c.batches]
    share = plan_chunks(samples, set(), range(1, 2), chunk_size=4, batch_size=4)
    assert [b.tolist() for c in share for b in c.batches] == [[4, 5, 6, 7]]


def test_skip_log_dedups_and_cuts_a_partial_last_line(tmp_path):
    path = tmp_path / "skipped.csv"
    log = SkipLog(path)
    log.add("a", "corrupt image", "OSError: truncated,\n with a comma")
    log.add("b", "missing image")
    log.add("a", "missing image", "again")
    log.commit()
    assert path.read_text() == ("id,reason,detail\na,corrupt image,\"OSError: truncated, with a "
                                "comma\"\nb,missing image,\n")
    with open(path, "ab") as fh:
        fh.write(b"c,invalid coordi")  # a writer killed mid-line
    again = SkipLog(path)
    assert list(again.entries) == ["a", "b"]
    assert again.counts() == {"corrupt image": 1, "missing image": 1}
    again.add("c", "invalid coordinates", "(nan, 1.0)")
    again.add("b", "corrupt image")
    again.commit()
    assert path.read_text().splitlines()[1:] == [
        'a,corrupt image,"OSError: truncated, with a comma"', "b,missing image,",
        'c,invalid coordinates,"(nan, 1.0)"']
    assert len(SkipLog(path)) == 3
