<!-- esap-lab vo-archive userconfig: the TAP examples served at /tap/examples (DALI examples,
  pyvo's TAPService.examples).  Anything not defined here comes from DaCHS's //userconfig. -->
<resource schema="__system">
  <STREAM id="tapexamples">
    <meta name="_example" title="Cone search around the main field">
      Sources of :taptable:`esapdemo.sources` within 2 arcmin of (155, 5), nearest first:

      .. tapquery::

        SELECT source_id, ra, dec, vmag,
          DISTANCE(POINT(ra, dec), POINT(155, 5)) * 60 AS dist_arcmin
        FROM esapdemo.sources
        WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(155, 5, 2/60.))
        ORDER BY dist_arcmin
    </meta>
    <meta name="_example" title="Colour-magnitude diagram">
      B-V colour against V magnitude for the bright part of :taptable:`esapdemo.sources`,
      ready to plot as a CMD:

      .. tapquery::

        SELECT TOP 5000 vmag, bmag - vmag AS b_v
        FROM esapdemo.sources
        WHERE vmag &lt; 16
        ORDER BY vmag
    </meta>
    <meta name="_example" title="Source counts per magnitude bin">
      A histogram of V magnitudes in :taptable:`esapdemo.sources`, one row per magnitude:

      .. tapquery::

        SELECT FLOOR(vmag) AS vbin, COUNT(*) AS n
        FROM esapdemo.sources
        GROUP BY vbin
        ORDER BY vbin
    </meta>
    <meta name="_example" title="Sources around each demo image (join)">
      Joins :taptable:`esapimg.images` with :taptable:`esapdemo.sources`: how many sources
      lie within 0.2 degrees of each image centre, and their mean V magnitude:

      .. tapquery::

        SELECT i.imageTitle, COUNT(*) AS n_sources, AVG(s.vmag) AS mean_vmag
        FROM esapimg.images AS i
        JOIN esapdemo.sources AS s
          ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(i.centerAlpha, i.centerDelta, 0.2))
        GROUP BY i.imageTitle
    </meta>
    <meta name="_example" title="Crossmatch an uploaded table">
      Upload positions as ``mine`` (TAP_UPLOAD) and find catalogue sources within 5 arcsec;
      CONTAINS with the catalogue's point lets the database use its index:

      .. tapquery::

        SELECT m.*, s.source_id, s.vmag
        FROM TAP_UPLOAD.mine AS m
        JOIN esapdemo.sources AS s
          ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(m.ra, m.dec, 5/3600.))
    </meta>
  </STREAM>
</resource>
