"""Datasets in memory as uint8 tensors: the facts of each dataset, loaders, file checks, splits and image folders."""
