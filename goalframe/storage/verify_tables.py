"""``goalframe verify`` across the dataset's tables: the manifest agrees with the complete
episodes, and every row that names an episode and a frame points inside a complete one."""

from __future__ import annotations

import polars as pl
import zarr

from goalframe.storage.layout import MASKS
from goalframe.storage.store import TableError, list_tables, read_table
from goalframe.storage.verify_report import Damage, one_line

# Table columns that point into episodes: (frame column, episode column, exclusive end?)
FRAME_COLUMNS = (
    ("frame", "episode_id", False),
    ("event_frame", "episode_id", False),
    ("start_frame", "episode_id", False),
    ("window_start", "episode_id", False),
    ("end_frame", "episode_id", True),
    ("stop_frame", "episode_id", True),
    ("window_stop", "episode_id", True),
    ("clip_end", "episode_id", True),
    ("goal_frame", "goal_episode_id", False),
)


def check_tables(
    dataset: str, storage_options, episodes: dict[str, dict], root: zarr.Group
) -> tuple[dict[str, int], list[Damage]]:
    damage: list[Damage] = []
    heights: dict[str, int] = {}
    lengths = {e: int(a.get("n_frames", 0)) for e, a in episodes.items()}
    for name in list_tables(dataset, storage_options):
        where = f"tables/{name}.parquet"
        try:
            table = read_table(dataset, name, storage_options)
        except TableError as exc:  # checksum mismatch or unparsable parquet
            damage.append(Damage("table", exc.problem, where=where))
            continue
        except Exception as exc:  # noqa: BLE001
            damage.append(Damage("table", f"unreadable ({one_line(exc)})", where=where))
            continue
        if table is None:
            continue
        heights[name] = table.height
        if name == "manifest":
            damage += _check_manifest(table, episodes, where)
            continue
        damage += _check_references(table, lengths, where)
        if name == "tracks" and {"episode_id", "track_id"} <= set(table.columns):
            for row in table.select("episode_id", "track_id").unique().iter_rows():
                if row[0] in lengths and f"{MASKS}/{row[0]}/{row[1]}" not in root:
                    damage.append(
                        Damage("table", f"track {row[1]!r} has no masks group", row[0], where=where)
                    )
    if "manifest" not in heights and episodes:
        damage.append(
            Damage(
                "table",
                f"no manifest table for {len(episodes)} complete episodes (re-run ingest)",
                where="tables/manifest.parquet",
            )
        )
    return heights, damage


def _check_manifest(table: pl.DataFrame, episodes: dict[str, dict], where: str) -> list[Damage]:
    damage = []
    if "episode_id" not in table.columns:
        return [Damage("table", "no episode_id column", where=where)]
    rows = {r["episode_id"]: r for r in table.iter_rows(named=True)}
    for episode in sorted(set(episodes) - set(rows)):
        damage.append(Damage("table", "complete episode missing from the manifest", episode, where=where))
    for episode in sorted(set(rows) - set(episodes)):
        damage.append(
            Damage("table", "manifest row for an episode that is not complete", episode, where=where)
        )
    if table.height != len(rows):
        damage.append(Damage("table", f"{table.height - len(rows)} duplicate episode rows", where=where))
    for episode in sorted(set(rows) & set(episodes)):
        for column in ("n_frames", "checksum"):
            if column in rows[episode] and rows[episode][column] != episodes[episode].get(column):
                damage.append(
                    Damage(
                        "table",
                        f"{column} {rows[episode][column]!r}, the episode says"
                        f" {episodes[episode].get(column)!r}",
                        episode,
                        where=where,
                    )
                )
    return damage


def _check_references(table: pl.DataFrame, lengths: dict[str, int], where: str) -> list[Damage]:
    damage = []
    for episode_column in ("episode_id", "goal_episode_id"):
        if episode_column not in table.columns:
            continue
        unknown = sorted(set(table[episode_column].drop_nulls().unique().to_list()) - set(lengths))
        for episode in unknown[:20]:
            count = table.filter(pl.col(episode_column) == episode).height
            damage.append(
                Damage(
                    "table",
                    f"{count} row(s) name episode {episode!r} ({episode_column}), which is not a complete"
                    " episode",
                    episode,
                    where=where,
                )
            )
    known = pl.DataFrame(
        {"_episode": list(lengths), "_n": list(lengths.values())},
        schema={"_episode": pl.String, "_n": pl.Int64},
    )
    for column, episode_column, exclusive in FRAME_COLUMNS:
        if column not in table.columns or episode_column not in table.columns:
            continue
        joined = table.select(
            pl.col(episode_column).alias("_episode"), pl.col(column).cast(pl.Int64).alias("_frame")
        ).drop_nulls()
        joined = joined.join(known, on="_episode", how="inner")
        limit = pl.col("_n") if exclusive else pl.col("_n") - 1
        bad = joined.filter((pl.col("_frame") < 0) | (pl.col("_frame") > limit))
        for row in bad.head(20).iter_rows(named=True):
            damage.append(
                Damage(
                    "table",
                    f"{column} {row['_frame']} outside the episode's {row['_n']} frames",
                    row["_episode"],
                    where=where,
                )
            )
        if bad.height > 20:
            damage.append(
                Damage(
                    "table", f"{bad.height - 20} more rows with {column} outside their episode", where=where
                )
            )
    return damage
