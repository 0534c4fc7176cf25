"""The GUI collects garbage in its own thread only (studio/ui/collector.py)."""

import gc
import threading


def _cycles(n):
    for _ in range(n):
        a = []
        a.append(a)


def test_worker_threads_never_start_a_collection_and_the_gui_thread_does(window, qtbot):
    threads = []

    def record(phase, info):
        if phase == "start":
            threads.append(threading.current_thread())

    gc.callbacks.append(record)
    try:
        worker = threading.Thread(target=_cycles, args=(20 * gc.get_threshold()[0],))
        worker.start()
        worker.join()
        assert worker not in threads
        qtbot.waitUntil(lambda: threading.main_thread() in threads, timeout=3000)
    finally:
        gc.callbacks.remove(record)
