"""``alnb select``: which images of a folder to label first, ranked by the study's pool strategies.

:mod:`~alnb.select.folder` lists, hashes, deduplicates and decodes the folder; :mod:`~alnb.select.embeddings`
trains the SimCLR encoder or reads the user's vectors; :mod:`~alnb.select.ranking` turns a pool strategy into
a ranking; :mod:`~alnb.select.objectives` scores every prefix; :mod:`~alnb.select.outputs` writes the files;
:mod:`~alnb.select.pipeline` ties them together for the command and ``notebooks/07_select.ipynb``;
:mod:`~alnb.select.simulate` runs a small study on a folder with class subfolders.
"""

from alnb.select.folder import SelectError
from alnb.select.pipeline import Selection, SelectRequest, check_request, run_selection

__all__ = ["SelectError", "SelectRequest", "Selection", "check_request", "run_selection"]
