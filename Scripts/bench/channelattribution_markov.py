"""Times ChannelAttribution's markov_model (order 1, seed 42) on a path file.

Prints two times in seconds on its last line: reading the file and running the model, and the model call alone.
"""
import sys
import time

import pandas as pd
from ChannelAttribution import markov_model

start = time.perf_counter()
data = pd.read_csv(sys.argv[1], sep=";")
model_start = time.perf_counter()
markov_model(data, "path", "total_conversions", var_value="total_conversion_value", var_null="total_null",
             order=1, sep=">", seed=42, verbose=0)
end = time.perf_counter()
print(f"{end - start:.3f} {end - model_start:.3f}")
