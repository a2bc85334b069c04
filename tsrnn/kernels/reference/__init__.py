"""Plain-NumPy reference implementations: the readable spec that tests check against.

Nothing on the fast path imports this package.
"""
