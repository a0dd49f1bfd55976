"""Deterministic synthetic demo data for the local archive: a source catalogue and FITS images.

Run by vo-archive.sh with Debian's /usr/bin/python3 (numpy + astropy):
    gendata.py OUTDIR NSOURCES
"""
import os
import sys

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(out, "img"), exist_ok=True)
rng = np.random.default_rng(20261122)
# Sources cluster in a 10 x 10 degree field around (155, 5) so cone searches there are dense.
ra = rng.uniform(150.0, 160.0, n)
dec = rng.uniform(0.0, 10.0, n)
vmag = rng.uniform(10.0, 22.0, n)
bmag = vmag + rng.normal(0.6, 0.3, n)
rmag = vmag - rng.normal(0.4, 0.2, n)
with open(os.path.join(out, "sources.csv"), "w") as f:
    f.write("source_id,ra,dec,vmag,bmag,rmag\n")
    for i in range(n):
        f.write("%d,%.7f,%.7f,%.3f,%.3f,%.3f\n" % (i + 1, ra[i], dec[i], vmag[i], bmag[i], rmag[i]))

fields = [(155.0, 5.0), (152.0, 2.0), (158.0, 8.0), (155.1, 5.1), (151.0, 9.0)]
for k, (cra, cdec) in enumerate(fields):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [cra, cdec]
    w.wcs.crpix = [32.5, 32.5]
    w.wcs.cdelt = [-0.01, 0.01]
    h = w.to_header()
    h["DATE-OBS"] = "2020-01-%02dT00:00:00" % (k + 1)
    h["FILTER"] = "Johnson V"
    h["OBJECT"] = "field%d" % k
    data = rng.normal(size=(64, 64)).astype("float32")
    fits.PrimaryHDU(data, header=h).writeto(os.path.join(out, "img", "field%d.fits" % k), overwrite=True)
