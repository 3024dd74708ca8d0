def mode():
    return "strict"


def other(n):
    return n + 1
