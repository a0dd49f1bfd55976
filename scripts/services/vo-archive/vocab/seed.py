"""Seed astropy's download cache with the IVOA vocabularies pyvo fetches at run time, so pyvo
works offline against the local archive: DataLink's bysemantics()/getdataset() needs
datalink/core, registry.search(waveband=...) needs messenger.

The JSON files next to this script are minimal vocabularies written for esap-lab (terms and
their narrower terms in the "desise" JSON shape pyvo reads; labels are plain descriptions),
not copies of the IVOA's.  A cache that already holds a vocabulary is left alone.
    python seed.py            (or: from seed import seed; seed())
"""
import os
import shutil
import tempfile

from astropy.utils.data import import_file_to_cache, is_url_in_cache

ROOT = "http://www.ivoa.net/rdf/"
FILES = {"datalink/core": "datalink-core.json", "messenger": "messenger.json"}
HERE = os.path.dirname(os.path.abspath(__file__))


def seed() -> list[str]:
    seeded = []
    for name, fname in FILES.items():
        url = ROOT + name
        if is_url_in_cache(url):
            continue
        fd, tmp = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        shutil.copyfile(os.path.join(HERE, fname), tmp)
        import_file_to_cache(url, tmp, remove_original=True)
        seeded.append(url)
    return seeded


if __name__ == "__main__":
    print("seeded:", ", ".join(seed()) or "nothing (already cached)")
