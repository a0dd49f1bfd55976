"""A HiPS of the demo images for sky viewers (Aladin Lite), built with reproject.

    make_hips.py OUTDIR IMAGE.fits [IMAGE.fits ...]

The images overlap, so they are first coadded into one mosaic on an optimal celestial WCS and
that mosaic is cut into HiPS tiles (FITS, 256 pixels).  Every FITS tile then gets a PNG twin
(a fixed linear cut, transparent where there is no data) so browsers can show the survey with
``hips_tile_format = png fits``.  OUTDIR is replaced atomically.
"""
import glob
import os
import re
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np
from astropy.io import fits
from PIL import Image
from reproject import reproject_interp
from reproject.hips import reproject_to_hips
from reproject.mosaicking import find_optimal_celestial_wcs, reproject_and_coadd

CUT = (-2.5, 2.5)  # the demo images are unit-variance noise


def main(out: str, images: list[str]) -> None:
    warnings.simplefilter("ignore")
    t0 = time.time()
    hdus = [fits.open(p)[0] for p in images]
    wcs, shape = find_optimal_celestial_wcs(hdus, frame="icrs")
    mosaic, cover = reproject_and_coadd(hdus, wcs, shape_out=shape, reproject_function=reproject_interp)
    mosaic[cover == 0] = np.nan
    work = tempfile.mkdtemp(prefix=".hips-", dir=os.path.dirname(os.path.abspath(out)))
    tiles = os.path.join(work, "hips")
    reproject_to_hips((mosaic, wcs), coord_system_out="equatorial", reproject_function=reproject_interp,
                      output_directory=tiles, tile_size=256,
                      properties={"obs_title": "esap-lab demo images",
                                  "creator_did": "ivo://esaplab.demo/esapimg/hips"})
    lo, hi = CUT
    for path in glob.glob(os.path.join(tiles, "Norder*", "Dir*", "Npix*.fits")):
        data = fits.getdata(path).astype("float64")
        grey = (np.clip((np.nan_to_num(data, nan=lo) - lo) / (hi - lo), 0, 1) * 255).astype("uint8")
        alpha = np.where(np.isfinite(data), 255, 0).astype("uint8")
        # FITS tiles run bottom-up, PNG tiles top-down
        Image.fromarray(np.dstack([grey, grey, grey, alpha])[::-1], "RGBA").save(path[:-5] + ".png")
    props = os.path.join(tiles, "properties")
    with open(props) as f:
        text = re.sub(r"(?m)^hips_tile_format\s*=.*$", "hips_tile_format = png fits", f.read())
    text = re.sub(r"(?m)^hips_pixel_cut\s*=.*\n", "", text)
    with open(props, "w") as f:
        f.write(text + f"hips_pixel_cut = {lo} {hi}\nhips_data_range = {lo} {hi}\n")
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tiles, out)
    shutil.rmtree(work, ignore_errors=True)
    n = len(glob.glob(os.path.join(out, "Norder*", "Dir*", "Npix*.fits")))
    print(f"HiPS: {n} tiles in {out} ({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
