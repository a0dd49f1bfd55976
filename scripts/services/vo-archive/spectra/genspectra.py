"""Synthetic 1-D optical spectra for the demo SSA service: FITS files with a primary header
describing the target and a binary table WAVELENGTH (Angstrom) / FLUX / ERROR
(erg/s/cm2/Angstrom), deterministic.  Run with Debian's /usr/bin/python3 (numpy + astropy):
    genspectra.py OUTDIR [COUNT]
"""
import os
import sys

import numpy as np
from astropy.io import fits

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 36
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(4242)
classes = ["star", "galaxy", "QSO"]
lam = np.linspace(3800.0, 7200.0, 1200)
for i in range(count):
    # the first twelve fall on the main demo field (155, 5), the rest spread over the catalogue
    if i < 12:
        ra, dec = 155.0 + rng.uniform(-0.2, 0.2), 5.0 + rng.uniform(-0.2, 0.2)
    else:
        ra, dec = rng.uniform(150.5, 159.5), rng.uniform(0.5, 9.5)
    kind = classes[i % 3]
    z = {"star": 0.0, "galaxy": rng.uniform(0.01, 0.2), "QSO": rng.uniform(0.5, 2.0)}[kind]
    slope = rng.uniform(-2.0, 1.0)
    cont = 2e-16 * (lam / 5500.0) ** slope
    if kind == "star":
        lines = -0.4 * cont * np.exp(-0.5 * ((lam - 4861.3) / 6.0) ** 2) \
            - 0.5 * cont * np.exp(-0.5 * ((lam - 6562.8) / 6.0) ** 2)
    else:
        rest = 6562.8 if kind == "galaxy" else 2798.0
        lines = 1.5 * cont * np.exp(-0.5 * ((lam - rest * (1 + z)) / (8.0 * (1 + z))) ** 2)
    noise = 0.03 * cont
    flux = cont + lines + rng.normal(0.0, 1.0, lam.size) * noise
    head = fits.Header()
    head["OBJECT"] = f"{kind}-{i:02d}"
    head["OBJCLASS"] = kind
    head["RA"], head["DEC"] = round(ra, 6), round(dec, 6)
    head["REDSHIFT"] = round(float(z), 5)
    head["DATE-OBS"] = f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}T03:00:00"
    head["EXPTIME"] = 900.0
    head["WAVMIN"], head["WAVMAX"], head["NPIX"] = float(lam[0]), float(lam[-1]), lam.size
    head["SPECRES"] = 3.0
    table = fits.BinTableHDU.from_columns([
        fits.Column(name="WAVELENGTH", format="D", unit="Angstrom", array=lam),
        fits.Column(name="FLUX", format="D", unit="erg / (s cm2 Angstrom)", array=flux),
        fits.Column(name="ERROR", format="D", unit="erg / (s cm2 Angstrom)", array=noise),
    ], name="SPECTRUM")
    fits.HDUList([fits.PrimaryHDU(header=head), table]).writeto(
        os.path.join(out, f"spec{i:03d}.fits"), overwrite=True)
