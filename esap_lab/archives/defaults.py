"""The archives a fresh install offers: public IVOA services, reachable from any normal network.

Each URL is the access URL the service publishes in its registry record (its capability for that
protocol), as quoted by the services' own documentation and by pyvo's and astroquery's; none is
made up from a host name. Between them they serve every search mode: cone (scs), images (sia2:
SIA v2, sia: SIA v1), spectra (ssa), ADQL (tap) and ObsCore (TAP services with ivoa.obscore).
A hub admin replaces the list with ``c.EsapLab.archives`` (or adds to it with
``c.EsapLab.extra_archives``).
"""

from __future__ import annotations

DEFAULT_ARCHIVES: list[dict] = [
    {
        "id": "gavo",
        "title": "GAVO Data Center",
        "description": "German Astrophysical Virtual Observatory, Heidelberg: many catalogues, images and spectra "
                       "(TAP with ObsCore, SIA v2 over all its images; cone search on ARIHIP, the Hipparcos-based "
                       "astrometric catalogue).",
        "tap": "https://dc.g-vo.org/tap",
        "sia2": "https://dc.g-vo.org/__system__/siap2/sitewide/siap2.xml",
        "scs": "https://dc.g-vo.org/arihip/q/cone/scs.xml",
    },
    {
        "id": "vizier",
        "title": "CDS VizieR",
        "description": "The VizieR catalogue service of the CDS, Strasbourg: TAP over all its catalogues; cone search "
                       "on Gaia DR3 (I/355/gaiadr3).",
        "tap": "https://tapvizier.cds.unistra.fr/TAPVizieR/tap",
        "scs": "https://vizier.cds.unistra.fr/viz-bin/conesearch/I/355/gaiadr3?",
    },
    {
        "id": "gaia",
        "title": "ESA Gaia archive",
        "description": "The Gaia data releases at ESAC (TAP, with uploads for crossmatches).",
        "tap": "https://gea.esac.esa.int/tap-server/tap",
    },
    {
        "id": "irsa",
        "title": "NASA/IPAC IRSA",
        "description": "Infrared Science Archive: TAP with ObsCore, SIA v2 images, SSA spectra; cone search on the "
                       "AllWISE source catalogue.",
        "tap": "https://irsa.ipac.caltech.edu/TAP",
        "sia2": "https://irsa.ipac.caltech.edu/SIA",
        "ssa": "https://irsa.ipac.caltech.edu/SSA",
        "scs": "https://irsa.ipac.caltech.edu/SCS?table=allwise_p3as_psd",
    },
    {
        "id": "cadc",
        "title": "CADC",
        "description": "Canadian Astronomy Data Centre: CFHT, JCMT, Gemini, HST and more (TAP with ObsCore and CAOM, "
                       "SIA v2 images).",
        "tap": "https://ws.cadc-ccda.hia-iha.nrc-cnrc.gc.ca/argus",
        "sia2": "https://ws.cadc-ccda.hia-iha.nrc-cnrc.gc.ca/sia",
    },
    {
        "id": "eso",
        "title": "ESO Science Archive",
        "description": "European Southern Observatory: observations and reduced products (TAP with ObsCore), 1-D "
                       "spectra (SSA).",
        "tap": "https://archive.eso.org/tap_obs",
        "ssa": "http://archive.eso.org/ssap",
    },
    {
        "id": "mast",
        "title": "MAST (STScI)",
        "description": "Mikulski Archive for Space Telescopes: HST, JWST, TESS and more (TAP over CAOM with ObsCore, "
                       "HST images by SIA v1, spectra by SSA).",
        "tap": "https://mast.stsci.edu/vo-tap/api/v0.1/caom",
        "sia": "https://mast.stsci.edu/portal_vo/Mashup/VoQuery.asmx/SiaV1?MISSION=HST&",
        "ssa": "http://archive.stsci.edu/ssap/search2.php?id=BEFS&",
    },
    {
        "id": "heasarc",
        "title": "NASA HEASARC",
        "description": "High Energy Astrophysics Science Archive: TAP over its catalogues, cone search on the ROSAT "
                       "master catalogue, Chandra images by SIA v1.",
        "tap": "https://heasarc.gsfc.nasa.gov/xamin/vo/tap",
        "scs": "https://heasarc.gsfc.nasa.gov/cgi-bin/vo/cone/coneGet.pl?table=rosmaster&",
        "sia": "https://heasarc.gsfc.nasa.gov/xamin/vo/sia?table=chanmaster&",
    },
]
