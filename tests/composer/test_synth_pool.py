"""Synths are borrowed, one per render at a time, and a background preload is the one used next."""

import threading

from composer.audio.render import SynthPool


def test_two_renders_at_once_get_two_synths_and_a_later_one_reuses_them():
    pool = SynthPool()
    inside, seen = threading.Barrier(2), []

    def render():
        with pool.borrow() as synth:
            seen.append(synth)
            inside.wait(timeout=30)  # both hold a synth at the same moment

    threads = [threading.Thread(target=render) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] is not seen[1]
    with pool.borrow() as again:
        assert again in seen


def test_the_preloaded_synth_is_the_one_the_first_render_gets():
    pool = SynthPool()
    pool.preload()
    pool.preload()  # one on its way already: nothing more starts
    loading = pool._loading
    with pool.borrow() as synth:
        assert not loading.is_alive() and synth is not None
    with pool.borrow() as again:
        assert again is synth
