"""VPT contractor-data reader: field round-trip, VPT action conversion, damaged inputs."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from vpt_fixtures import BAD_UTF8, MILLI0, STEM, VERSION, make_line, write_episode, write_video

from goalframe.schemas.episode import RawFormatError
from goalframe.sources import vpt, vpt_format
from goalframe.sources import vpt_actions as va


def _read_one(root):
    refs = vpt.discover(root)
    assert len(refs) == 1
    return vpt.read(refs[0])


def _varied_lines() -> list[dict]:
    return [
        make_line(0, keyboard={"keys": ["key.keyboard.w"], "newKeys": ["key.keyboard.w"], "chars": "w"}),
        make_line(
            1,
            mouse={"dx": 24.0, "dy": -8.0, "buttons": [0, 2], "newButtons": [0, 2], "dwheel": 1.0},
            keyboard={"keys": ["key.keyboard.w", "key.keyboard.left.shift"], "newKeys": [], "chars": "é!"},
            hotbar=3,
        ),
        make_line(
            2,
            isGuiOpen=True,
            isGuiInventory=True,
            mouse={"buttons": [1], "newButtons": [1]},
            keyboard={"keys": ["key.keyboard.e", "key.keyboard.custom.thing"], "newKeys": ["key.keyboard.e"]},
            inventory=[{"type": "dirt", "quantity": 7}],
            stats={"minecraft.custom:minecraft.jump": 5, "minecraft.mine_block:minecraft.dirt": 1},
        ),
        make_line(3, stats={"minecraft.custom:minecraft.jump": 5, "minecraft.mine_block:minecraft.dirt": 1}),
    ]


# ---------------------------------------------------------------------------- round trip


def test_every_field_round_trips(tmp_path):
    ep = write_episode(tmp_path, lines=_varied_lines(), n_frames=4)
    lines = ep.lines
    r = _read_one(tmp_path)
    T = len(lines)
    assert r.episode_id == STEM and r.source_format == "vpt" and r.fps == 20.0 and r.n_frames == T
    assert r.videos["pov"].n_frames == T and (r.videos["pov"].height, r.videos["pov"].width) == (32, 64)
    assert r.raw_files == [ep.jsonl, ep.mp4, ep.options]
    assert r.attrs["recorder_version"] == VERSION and r.attrs["options"]["windowWidth"] == 1280
    assert r.attrs["missing_fields"] == [] and r.attrs["jsonl"] == str(ep.jsonl)
    assert r.warnings == []

    a = r.arrays
    for field, name in zip(vpt_format.MOUSE_FIELDS, vpt_format.MOUSE_ARRAYS):
        arr = a[f"actions/mouse/{name}"]
        assert arr.dtype == np.float32 and arr.shape == (T,)
        np.testing.assert_array_equal(arr, np.float32([ln["mouse"][field] for ln in lines]))
    for field, name in (("buttons", "buttons"), ("newButtons", "new_buttons")):
        arr = a[f"actions/mouse/{name}"]
        assert arr.dtype == bool and arr.shape == (T, 8)
        assert [list(np.flatnonzero(row)) for row in arr] == [ln["mouse"][field] for ln in lines]

    vocab = r.array_attrs["actions/keyboard/keys"]["vocabulary"]
    assert vocab[: len(vpt_format.BASE_KEY_VOCABULARY)] == vpt_format.BASE_KEY_VOCABULARY
    assert vocab[len(vpt_format.BASE_KEY_VOCABULARY) :] == ["key.keyboard.custom.thing"]
    for field, name in (("keys", "keys"), ("newKeys", "new_keys")):
        arr = a[f"actions/keyboard/{name}"]
        assert arr.dtype == bool and arr.shape == (T, len(vocab))
        assert [sorted(vocab[i] for i in np.flatnonzero(row)) for row in arr] == [
            sorted(ln["keyboard"][field]) for ln in lines
        ]
    assert list(a["actions/keyboard/chars"]) == [ln["keyboard"]["chars"] for ln in lines]

    np.testing.assert_array_equal(a["states/gui/open"], [ln["isGuiOpen"] for ln in lines])
    np.testing.assert_array_equal(a["states/gui/inventory"], [ln["isGuiInventory"] for ln in lines])
    assert a["states/hotbar"].dtype == np.int8
    np.testing.assert_array_equal(a["states/hotbar"], [ln["hotbar"] for ln in lines])
    for k in ("yaw", "pitch", "xpos", "ypos", "zpos"):
        assert a[f"states/{k}"].dtype == np.float64
        np.testing.assert_array_equal(a[f"states/{k}"], [ln[k] for ln in lines])
    for k, field in (("tick", "tick"), ("milli", "milli"), ("server_tick", "serverTick")):
        assert a[f"states/{k}"].dtype == np.int64
        np.testing.assert_array_equal(a[f"states/{k}"], [ln[field] for ln in lines])
    assert a["states/server_tick_duration_ms"].dtype == np.float32
    np.testing.assert_array_equal(a["states/server_tick_duration_ms"], np.float32([36.3466] * T))
    assert r.timestamps.dtype == np.int64
    np.testing.assert_array_equal(r.timestamps, (MILLI0 + 50 * np.arange(T)) * 1_000_000)

    items = r.array_attrs["states/inventory/quantity"]["vocabulary"]
    assert items == ["dirt", "oak_door", "oak_planks", "stone_pickaxe"]
    q = a["states/inventory/quantity"]
    assert q.dtype == np.int32 and q.shape == (T, 4)
    np.testing.assert_array_equal(q[0], [0, 3, 59 + 64, 1])  # repeated types summed
    np.testing.assert_array_equal(q[2], [7, 0, 0, 0])

    names = r.array_attrs["states/stats/key"]["vocabulary"]
    rows = list(
        zip(
            a["states/stats/frame"].tolist(),
            [names[k] for k in a["states/stats/key"]],
            a["states/stats/value"].tolist(),
        )
    )
    assert a["states/stats/frame"].dtype == np.int32 and a["states/stats/value"].dtype == np.int64
    assert rows == [
        (0, "minecraft.custom:minecraft.jump", 4),
        (0, "minecraft.custom:minecraft.play_one_minute", 5999),
        (0, "minecraft.use_item:minecraft.oak_planks", 5),
        (1, "minecraft.custom:minecraft.play_one_minute", 6000),
        (2, "minecraft.custom:minecraft.jump", 5),
        (2, "minecraft.custom:minecraft.play_one_minute", 6001),
        (2, "minecraft.mine_block:minecraft.dirt", 1),
        (3, "minecraft.custom:minecraft.play_one_minute", 6002),
    ]  # make_line merges the stats override into its defaults
    assert r.array_attrs["states/stats/frame"]["sparse"] is True

    for path, arr in a.items():  # every time-major array has T rows; attrs are JSON-able
        if not path.startswith("states/stats/"):
            assert arr.shape[0] == T, path
    json.dumps(r.array_attrs)
    json.dumps(r.attrs)


def test_read_includes_vpt_actions(tmp_path):
    write_episode(tmp_path, lines=_varied_lines())
    a = _read_one(tmp_path).arrays
    b = a["actions/vpt/buttons"]
    assert b.shape == (4, 20) and b.dtype == bool
    on = [sorted(va.BUTTONS[i] for i in np.flatnonzero(row)) for row in b]
    assert on[0] == ["forward"]
    assert on[1] == ["attack", "forward", "hotbar.4", "sneak"]  # pickItem dropped, hotbar 0 -> 3
    assert on[2] == ["hotbar.1", "inventory", "use"]  # hotbar 3 -> 0 by scroll
    assert on[3] == []
    np.testing.assert_allclose(a["actions/vpt/camera"][1], [-1.2, 3.6], rtol=1e-6)
    assert a["actions/vpt/camera"].dtype == np.float32
    assert a["actions/vpt/camera_bin"].dtype == np.int8
    np.testing.assert_array_equal(a["actions/vpt/is_null"], [False, False, False, True])


# ---------------------------------------------------------------------------- VPT actions


def _line(dx=0.0, dy=0.0, keys=(), buttons=(), new_buttons=(), hotbar=0):
    return {
        "mouse": {"dx": dx, "dy": dy, "buttons": list(buttons), "newButtons": list(new_buttons)},
        "keyboard": {"keys": list(keys)},
        "hotbar": hotbar,
    }


def _on(arrays, t):
    return sorted(va.BUTTONS[i] for i in np.flatnonzero(arrays["actions/vpt/buttons"][t]))


def test_key_mapping_and_camera_scale():
    lines = [
        _line(keys=["key.keyboard.w"]),
        _line(dx=24.0),
        _line(dy=24.0, dx=-24.0),
        _line(keys=["key.keyboard.escape", "key.keyboard.f", "key.keyboard.x"]),
        _line(keys=["key.keyboard.space", "key.keyboard.left.control", "key.keyboard.9", "key.keyboard.q"]),
    ]
    a = va.convert_actions(lines)
    assert _on(a, 0) == ["forward"]
    np.testing.assert_allclose(a["actions/vpt/camera"][1], [0.0, 3.6], rtol=1e-6)  # (pitch, yaw)
    np.testing.assert_allclose(a["actions/vpt/camera"][2], [3.6, -3.6], rtol=1e-6)
    assert _on(a, 3) == []  # ESC and swapHands are not among the 20 buttons; x unmapped
    assert a["actions/vpt/is_null"][3] == np.False_  # but ESC/swapHands still make it non-null
    assert _on(a, 4) == ["drop", "hotbar.9", "jump", "sprint"]
    np.testing.assert_array_equal(a["actions/vpt/is_null"], [False, False, False, False, False])


def test_camera_bins():
    a = va.convert_actions([_line(), _line(dx=24.0), _line(dx=-2400.0, dy=2400.0)])
    np.testing.assert_array_equal(a["actions/vpt/camera_bin"][0], [5, 5])  # 0 degrees -> null bin
    assert a["actions/vpt/camera_bin"][1, 1] > 5 and a["actions/vpt/camera_bin"][1, 0] == 5
    np.testing.assert_array_equal(a["actions/vpt/camera_bin"][2], [10, 0])  # clipped at +-10 degrees
    np.testing.assert_array_equal(va.discretize_camera(np.array([0.0, 10.0, -10.0, 0.5])), [5, 10, 0, 6])
    np.testing.assert_allclose(va.undiscretize_camera(np.array([5])), [0.0])


def test_stuck_attack_removed_until_repress():
    lines = [
        _line(buttons=[0], new_buttons=[0]),  # line 0: newButtons == [0] -> stuck
        _line(buttons=[0, 1]),
        _line(buttons=[0]),
        _line(buttons=[0], new_buttons=[0]),  # pressed again: real from here
        _line(buttons=[0]),
    ]
    stats: dict = {}
    a = va.convert_actions(lines, stats=stats)
    assert [("attack" in _on(a, t)) for t in range(5)] == [False, False, False, True, True]
    assert _on(a, 1) == ["use"]
    np.testing.assert_array_equal(a["actions/vpt/is_null"], [True, False, True, False, False])
    assert stats["stuck_attack_lines"] == 3
    # not stuck when the first line's newButtons is anything but exactly [0]
    b = va.convert_actions([_line(buttons=[0, 1], new_buttons=[0, 1]), _line(buttons=[0])])
    assert "attack" in _on(b, 0) and "attack" in _on(b, 1)


def test_hotbar_change_by_scroll():
    a = va.convert_actions([_line(hotbar=0), _line(hotbar=4), _line(hotbar=4), _line(hotbar=1)])
    assert [_on(a, t) for t in range(4)] == [[], ["hotbar.5"], [], ["hotbar.2"]]
    # VPT decides is_null before the scroll rule: a scroll-only line stays null
    np.testing.assert_array_equal(a["actions/vpt/is_null"], [True, True, True, True])
    # a recording starting on slot 3 sets hotbar.4 on its first line (last_hotbar starts at 0)
    assert _on(va.convert_actions([_line(hotbar=3)]), 0) == ["hotbar.4"]


def test_truncate_camera_option_and_json_action():
    action, null = va.json_action_to_env_action(_line(dx=24.0, buttons=[2]))
    assert not null and action["pickItem"] == 1 and action["camera"][1] == pytest.approx(3.6)
    a = va.convert_actions([_line(dx=24.0)], truncate_camera=True)
    np.testing.assert_array_equal(a["actions/vpt/camera"][0], [0.0, 3.0])  # VPT's int array


def _from_factored_reference(buttons: np.ndarray, camera_bin: np.ndarray) -> tuple[int, int]:
    """CameraHierarchicalMapping.from_factored, written out literally for one step."""
    combos = va.button_combinations()
    choice = []
    for name, group in va.BUTTONS_GROUPS.items():
        if name == "camera":
            choice.append("none" if (camera_bin == 5).all() else "camera")
            continue
        members = [b for b in group if b != "none"]
        pressed = [bool(buttons[va.BUTTONS.index(b)]) for b in members]
        if set(members) in ({"forward", "back"}, {"left", "right"}) and all(pressed):
            pressed = [False] * len(pressed)
        pick = "none"
        for b, p in zip(members, pressed):
            if p:
                pick = b
        choice.append(pick)
    key: tuple | str = tuple(choice)
    if buttons[va.BUTTONS.index("inventory")]:
        key = "inventory"
        cam = (5, 5)
    else:
        cam = tuple(camera_bin)
    cams = list(itertools.product(range(11), range(11)))
    return combos.index(key), cams.index(cam)


def test_joint_encoding_matches_vpt_definition():
    assert va.N_BUTTON_CLASSES == 8641 and len(va.button_combinations()) == 8641
    rng = np.random.default_rng(0)
    buttons = rng.random((60, 20)) < 0.25
    buttons[:5] = False
    buttons[1, [1, 2]] = True  # forward + back -> neither
    buttons[2, [6, 7]] = True  # sprint + sneak -> sneak
    camera_bin = rng.integers(0, 11, size=(60, 2))
    camera_bin[:3] = 5
    got_b, got_c = va.joint_encode(buttons, camera_bin)
    for t in range(len(buttons)):
        assert (got_b[t], got_c[t]) == _from_factored_reference(buttons[t], camera_bin[t]), t
    assert got_b[0] == va.BUTTON_NULL_CLASS and got_c[0] == va.CAMERA_NULL_CLASS == 60


# ---------------------------------------------------------------------------- damaged inputs


def test_missing_mp4(tmp_path):
    ep = write_episode(tmp_path, missing_mp4=True)
    with pytest.raises(RawFormatError, match="missing") as err:
        _read_one(tmp_path)
    assert err.value.path == str(ep.mp4) and "\n" not in str(err.value)


def test_missing_jsonl(tmp_path):
    ep = write_episode(tmp_path, missing_jsonl=True)
    with pytest.raises(RawFormatError, match="missing") as err:
        _read_one(tmp_path)
    assert err.value.path == str(ep.jsonl)


def test_malformed_line_in_the_middle(tmp_path):
    ep = write_episode(tmp_path, 6, malformed_line=3)
    with pytest.raises(RawFormatError) as err:
        _read_one(tmp_path)
    assert err.value.line == 3
    assert str(err.value).startswith(f"{ep.jsonl}:3: malformed JSON")


def test_wrong_type_in_the_middle_names_field(tmp_path):
    lines = [make_line(t) for t in range(4)]
    lines[1]["yaw"] = "north"
    write_episode(tmp_path, lines=lines)
    with pytest.raises(RawFormatError, match="'yaw'") as err:
        _read_one(tmp_path)
    assert err.value.line == 2


def test_truncated_last_line_dropped(tmp_path):
    ep = write_episode(tmp_path, 6, truncate_last=True, n_frames=6)
    r = _read_one(tmp_path)
    assert r.n_frames == 5 and r.videos["pov"].n_frames == 5
    assert all(arr.shape[0] == 5 for p, arr in r.arrays.items() if not p.startswith("states/stats/"))
    assert any(w.startswith(f"{ep.jsonl}:6:") and "dropped" in w for w in r.warnings)
    assert r.attrs["quirks"]["dropped_last_line"] is True
    # the dropped line still counts for the frame rule: 7 frames for 6 lines is fine too
    write_video(ep.mp4, 7)
    assert vpt.read(vpt.discover(tmp_path)[0]).n_frames == 5
    write_video(ep.mp4, 5)  # 5 frames < 6 lines in the file
    with pytest.raises(RawFormatError, match="5 frames"):
        vpt.read(vpt.discover(tmp_path)[0])


@pytest.mark.parametrize("n_frames", [8, 4, 5])
def test_frame_count_off(tmp_path, n_frames):
    ep = write_episode(tmp_path, 6, n_frames=n_frames)
    with pytest.raises(RawFormatError) as err:
        _read_one(tmp_path)
    assert err.value.path == str(ep.mp4)
    assert f"{n_frames} frames" in str(err.value) and "6 lines" in str(err.value)


def test_extra_final_frame_accepted(tmp_path):
    write_episode(tmp_path, 6, n_frames=7)
    r = _read_one(tmp_path)
    assert r.n_frames == 6 and r.videos["pov"].n_frames == 6 and r.timestamps.shape == (6,)
    assert r.attrs["quirks"]["extra_video_frames"] == 1


def test_fps_30_rejected(tmp_path):
    ep = write_episode(tmp_path, 6, fps=30)
    with pytest.raises(RawFormatError, match="30 fps") as err:
        _read_one(tmp_path)
    assert err.value.path == str(ep.mp4)


def test_unreadable_mp4(tmp_path):
    ep = write_episode(tmp_path, 6, garbage_mp4=True)
    with pytest.raises(RawFormatError) as err:
        _read_one(tmp_path)
    assert err.value.path == str(ep.mp4) and str(ep.mp4) in str(err.value)


def test_non_utf8_chars_warn_and_keep_the_rest(tmp_path):
    ep = write_episode(tmp_path, 5, bad_utf8_line=2)
    r = _read_one(tmp_path)
    assert r.n_frames == 5
    assert any(w.startswith(f"{ep.jsonl}:2:") and "UTF-8" in w for w in r.warnings)
    chars = list(r.arrays["actions/keyboard/chars"])
    assert chars[1] == BAD_UTF8.decode("utf-8", errors="replace") == "a\ufffd\ufffdb"
    assert chars[0] == chars[2] == ""
    np.testing.assert_array_equal(r.arrays["states/yaw"], [ln["yaw"] for ln in ep.lines])
    assert r.attrs["quirks"]["invalid_utf8_lines"] == 1


def test_surrogate_escape_in_chars_is_replaced(tmp_path):
    lines = [make_line(0), make_line(1, keyboard={"chars": "x\udc80"})]
    write_episode(tmp_path, lines=lines)
    r = _read_one(tmp_path)
    assert r.arrays["actions/keyboard/chars"][1] == "x\ufffd"
    r.arrays["actions/keyboard/chars"][1].encode("utf-8")
    assert any("surrogate" in w for w in r.warnings)


def test_null_mouse_keyboard_and_missing_fields(tmp_path):
    ep = write_episode(
        tmp_path,
        5,
        null_sections_line=2,
        drop_fields=("hotbar", "mouse.dwheel", "serverTick", "serverTickDurationMs"),
    )
    r = _read_one(tmp_path)
    a = r.arrays
    assert r.n_frames == 5
    missing = r.attrs["missing_fields"]
    assert {"hotbar", "mouse.dwheel", "serverTick", "serverTickDurationMs"} <= set(missing)
    assert "mouse (null)" in missing and "keyboard (null)" in missing
    assert r.attrs["quirks"]["null_mouse_lines"] == 1
    np.testing.assert_array_equal(a["states/hotbar"], 0)
    np.testing.assert_array_equal(a["actions/mouse/dwheel"], 0)
    np.testing.assert_array_equal(a["states/server_tick"], -1)
    assert np.isnan(a["states/server_tick_duration_ms"]).all()
    assert a["actions/mouse/x"][1] == 0 and not a["actions/mouse/buttons"][1].any()
    assert a["actions/keyboard/chars"][1] == "" and not a["actions/keyboard/keys"][1].any()
    assert a["actions/mouse/x"][2] == ep.lines[2]["mouse"]["x"]
    assert any("null" in w for w in r.warnings) and any("missing" in w for w in r.warnings)


def test_missing_milli_fills_timestamps(tmp_path):
    write_episode(tmp_path, 4, drop_fields=("milli",))
    r = _read_one(tmp_path)
    np.testing.assert_array_equal(r.arrays["states/milli"], -1)
    np.testing.assert_array_equal(r.timestamps, np.arange(4) * 50_000_000)
    assert r.attrs["quirks"]["timestamps_filled"] == 4


def test_missing_options_is_a_warning(tmp_path):
    ep = write_episode(tmp_path, 4, options=False)
    r = _read_one(tmp_path)
    assert r.attrs["options"] is None and r.raw_files == [ep.jsonl, ep.mp4]
    assert any("options" in w for w in r.warnings)


# ---------------------------------------------------------------------------- discovery


def test_directory_discovery_pairs_and_orphans(tmp_path):
    write_episode(tmp_path, 3, stem="alias-aaa-20220101-000000", version="6.13")
    write_episode(tmp_path, 3, stem="alias b+c-20220101-000001", version="notaversion", options=False)
    write_episode(tmp_path, 3, stem="alias-ddd-20220101-000002", version="10.0", missing_mp4=True)
    refs = vpt.discover(tmp_path)
    assert [r.episode_id for r in refs] == [
        "alias-aaa-20220101-000000",
        "alias-ddd-20220101-000002",
        "alias_b_c-20220101-000001",
    ]
    assert [r.version for r in refs] == ["6.13", "10.0", None]
    assert refs[2].options is None and refs[0].options is not None
    assert refs == vpt.discover(tmp_path)  # deterministic
    with pytest.raises(RawFormatError, match="missing"):
        vpt.read(refs[1])


def test_index_file_discovery(tmp_path):
    data = tmp_path / "data"
    write_episode(data, 3, stem="alias-aaa-20220101-000000", version="8.0")
    write_episode(data, 4, stem="alias-bbb-20220101-000001", version="8.0")
    index = data / "all_8xx_Jun_29.json"
    index.write_text(
        json.dumps(
            {
                "basedir": "https://openaipublic.blob.core.windows.net/data/",  # not local: falls back
                "relpaths": ["8.0/alias-bbb-20220101-000001.mp4", "8.0/alias-aaa-20220101-000000"],
            }
        )
    )
    refs = vpt.discover(index)
    assert [r.episode_id for r in refs] == ["alias-aaa-20220101-000000", "alias-bbb-20220101-000001"]
    assert all(r.version == "8.0" and r.mp4.is_file() and r.jsonl.is_file() for r in refs)
    assert vpt.read(refs[1]).n_frames == 4
    # a basedir that exists is used as is
    elsewhere = tmp_path / "index.json"
    elsewhere.write_text(
        json.dumps({"basedir": str(data), "relpaths": ["8.0/alias-aaa-20220101-000000.mp4"]})
    )
    assert [r.jsonl for r in vpt.discover(elsewhere)] == [refs[0].jsonl]


def test_bad_index_and_missing_raw(tmp_path):
    bad = tmp_path / "index.json"
    bad.write_text('{"basedir": "x"}')
    with pytest.raises(RawFormatError, match="relpaths"):
        vpt.discover(bad)
    with pytest.raises(RawFormatError, match="does not exist"):
        vpt.discover(tmp_path / "nope")


def test_safe_episode_id():
    assert vpt.safe_episode_id("a b/c:d-1.2_x") == "a_b_c_d-1.2_x"
    assert vpt.safe_episode_id("__x") == "ep__x"
