"""The LLMCompiler seed's task fetching unit (seeds/003), as the seed gives it: a
ThreadPoolExecutor, and a task whose dependencies are not done polls for them every
retry_after = 0.2 s. Parameterised only to run bench/compiler.ts's scenarios and to
print their makespans as JSON (the seed's per-task prints are left out).

    python3 bench/compiler-seed.py seed|chain|wide [runs]
"""

from concurrent.futures import ThreadPoolExecutor, wait
import json
import os
import re
import sys
import time

observations = {}


def sleep_next(t):
    time.sleep(t)
    return t


def sleep_total(time1=0, time2=0):
    return time1 + time2


def sleep_after(t, after=None):
    """The chain's tool: sleeps like sleep_next; `after` is the previous task's observation."""
    time.sleep(t)
    return t


functions = {
    "sleep_next": sleep_next,
    "sleep_total": sleep_total,
    "sleep_after": sleep_after,
}


def _resolve_arg(args, observations):
    new_args = {}
    for arg_name, arg_value in args.items():
        ID_PATTERN = r"\$\{?(\d+)\}?"
        if isinstance(arg_value, str):
            match = re.match(ID_PATTERN, arg_value)
            if match:
                idx = int(match.group(1))
                observation = observations.get(idx)
                new_args[arg_name] = observation
            else:
                new_args[arg_name] = arg_value
        else:
            new_args[arg_name] = arg_value
    return new_args


def schedule_task(task, observations):
    args = task["args"]
    resolved_args = _resolve_arg(args, observations)
    observation = functions[task["tool_name"]](**resolved_args)
    observations[task["idx"]] = observation


def schedule_pending_task(task, observations, retry_after):
    while True:
        deps = task["dependencies"]
        if deps and (any([dep not in observations for dep in deps])):
            time.sleep(retry_after)
            continue
        schedule_task(task, observations)
        break


retry_after = 0.2


def run(tasks, max_workers):
    """The seed's main block; returns its makespan in ms."""
    start = time.perf_counter()
    futures = []
    with ThreadPoolExecutor(max_workers=max_workers) as executor:
        for task in tasks:
            if any([dep not in observations for dep in task["dependencies"]]):
                futures.append(executor.submit(schedule_pending_task, task, observations, retry_after))
            else:
                executor.submit(schedule_task, task, observations)
        wait(futures)
    return (time.perf_counter() - start) * 1000


def seed_tasks():
    return [
        {"idx": 1, "tool_name": "sleep_next", "args": {"t": 1}, "dependencies": []},
        {"idx": 2, "tool_name": "sleep_next", "args": {"t": 2}, "dependencies": []},
        {
            "idx": 3,
            "tool_name": "sleep_total",
            "args": {"time1": "$1", "time2": "$2"},
            "dependencies": [1, 2],
        },
    ]


def chain_tasks():
    """20 tasks of 10 ms, each taking the previous one's observation."""
    return [
        {
            "idx": i,
            "tool_name": "sleep_after",
            "args": {"t": 0.01} if i == 1 else {"t": 0.01, "after": f"${i - 1}"},
            "dependencies": [] if i == 1 else [i - 1],
        }
        for i in range(1, 21)
    ]


def wide_tasks():
    """200 independent tasks of 10 ms."""
    return [
        {"idx": i, "tool_name": "sleep_next", "args": {"t": 0.01}, "dependencies": []}
        for i in range(1, 201)
    ]


# scenario: (tasks, max_workers, check); None is the seed's ThreadPoolExecutor() default.
scenarios = {
    "seed": (seed_tasks, None, lambda: observations[3] == 3),
    "chain": (chain_tasks, None, lambda: len(observations) == 20),
    "wide": (wide_tasks, 50, lambda: len(observations) == 200),
}

if __name__ == "__main__":
    name = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    make_tasks, max_workers, check = scenarios[name]
    makespans = []
    for _ in range(runs):
        observations.clear()
        makespans.append(run(make_tasks(), max_workers))
        if not check():
            raise SystemExit(f"{name}: wrong observations {observations}")
    workers = max_workers or min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default
    print(json.dumps({"scenario": name, "max_workers": workers, "makespans_ms": makespans}))
