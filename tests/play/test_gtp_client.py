import pytest

from zeroforge.play.gtp import EngineDied, EngineTimeout, GTPEngine, GTPError


def test_replies_skip_noise_and_report_failures(fake_engine):
    with GTPEngine(fake_engine(), name="fake") as engine:
        assert engine.send("boardsize 19") == ""
        assert engine.send("genmove b") == "A1"  # the noise line before it is skipped
        engine.send("play w B1")
        assert engine.send("genmove b") == "C1"
        with pytest.raises(GTPError, match="unknown command"):
            engine.send("bogus")
        with pytest.raises(ValueError):
            engine.send("play b A1\ngenmove w")
    assert not engine.alive()


def test_engine_that_dies_after_three_moves(fake_engine):
    engine = GTPEngine(fake_engine(die_after=3), name="fragile")
    for _ in range(3):
        engine.send("genmove b", timeout=10)
    with pytest.raises(EngineDied) as info:
        engine.send("genmove b", timeout=10)
    assert "exit code 3" in str(info.value)
    assert "dying after 3 moves" in info.value.stderr_tail
    assert info.value.engine_name == "fragile"
    with pytest.raises(EngineDied):  # and stays dead
        engine.send("genmove w", timeout=10)
    engine.close()


def test_engine_that_hangs_is_killed(fake_engine):
    engine = GTPEngine(fake_engine(hang_after=1), name="sleepy")
    engine.send("genmove b", timeout=10)
    with pytest.raises(EngineTimeout) as info:
        engine.send("genmove w", timeout=0.5)
    assert "hanging" in info.value.stderr_tail
    assert not engine.alive()
    engine.close()


def test_timeout_is_a_deadline_for_the_whole_reply(tmp_path, fake_engine):
    chatty = tmp_path / "chatty.py"
    chatty.write_text(
        "import sys, time\n"
        "sys.stdin.readline()\n"
        "for _ in range(100):\n"
        "    print('still thinking', flush=True)\n"
        "    time.sleep(0.05)\n"
    )
    engine = GTPEngine(fake_engine()[:1] + [str(chatty)], name="chatty")
    with pytest.raises(EngineTimeout):  # a per-line timeout would wait for the exit instead
        engine.send("genmove b", timeout=1.0)
    engine.close()


def test_bad_command_lines():
    with pytest.raises(TypeError):
        GTPEngine("gnugo --mode gtp")
    with pytest.raises(EngineDied, match="could not be started"):
        GTPEngine(["/nonexistent/engine"])
