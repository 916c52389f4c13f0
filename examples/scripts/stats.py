"""Example function for examples/python-function.yaml."""


def summarize(values, precision=1):
    """Returns count, mean and max of a list of numbers."""
    mean = sum(values) / len(values)
    return {
        "count": len(values),
        "mean": round(mean, precision),
        "max": max(values),
    }
