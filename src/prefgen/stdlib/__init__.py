"""The installed Python standard library as offline data: its docstrings (the demo corpus and
the questions built on it) and the stable hashing every built-in prompt set splits by."""
