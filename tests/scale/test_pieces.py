"""Pieces, the units shards are made of: a large file's rows cut every ``piece_rows`` rows, counted across the
parts of the table the file spans, numbered within the file (each piece keeps its own analysis memo)."""

from waterworks.assets.engines import LocalEngine, RayEngine, shard_runs
from waterworks.assets.sanitation.shards import FileRun, file_pieces


def run(path: str, part: str, start: int, stop: int, piece: int = 0) -> FileRun:
    return FileRun("s", path, part, start, stop, piece)


def test_a_file_is_cut_every_piece_rows_across_the_parts_it_spans():
    runs = [run("a", "p0", 0, 3), run("b", "p0", 3, 10), run("b", "p1", 0, 5), run("c", "p1", 5, 9)]
    pieces = file_pieces(runs, 4)
    assert pieces == [
        [run("a", "p0", 0, 3)],
        [run("b", "p0", 3, 7, 0)], [run("b", "p0", 7, 10, 1), run("b", "p1", 0, 1, 1)],
        [run("b", "p1", 1, 5, 2)],
        [run("c", "p1", 5, 9)],
    ]
    # every row once, in order, whatever the piece size
    for size in (1, 2, 3, 4, 12, 100):
        rows = [(r.part, i) for piece in file_pieces(runs, size) for r in piece for i in range(r.start, r.stop)]
        assert rows == [(r.part, i) for r in runs for i in range(r.start, r.stop)]
        assert all(sum(r.rows for r in piece) <= size for piece in file_pieces(runs, size))


def test_shards_are_runs_of_pieces():
    pieces = file_pieces([run("a", "p0", 0, 10)], 3)
    assert len(shard_runs(pieces, RayEngine(piece_rows=3))) == 4  # ray: a shard per piece
    assert len(shard_runs(pieces, LocalEngine(shards=2, piece_rows=3))) == 2


def test_ray_packs_small_pieces_into_shards_of_up_to_piece_rows():
    runs = [run("a", "p0", 0, 2), run("b", "p0", 2, 3), run("c", "p0", 3, 4), run("d", "p0", 4, 14)]
    pieces = file_pieces(runs, 4)  # a: 2 rows, b: 1, c: 1, d: 4 + 4 + 2

    def size(piece):
        return sum(r.rows for r in piece)

    shards = shard_runs(pieces, RayEngine(piece_rows=4), size)
    assert [[size(p) for p in shard] for shard in shards] == [[2, 1, 1], [4], [4], [2]]
    assert [p for shard in shards for p in shard] == pieces  # every piece once, in order
