"""Tool loops (agent loops): the app runs each called tool and sends its output back, the model
answers from it or calls the next tool, until it answers, runs out of steps, or something fails.

    outputs.py     what each tool returns in a case: canned outputs by argument matcher, or a callable
    trajectory.py  the steps of one loop (each reply and the outputs sent back) and how it ended
    driver.py      the loop itself, written once for every API (providers supply the conversation)

Tool outputs come from the case, never from the world, so a replay sends the same requests in the
same order and one cassette per job holds them all.
"""
