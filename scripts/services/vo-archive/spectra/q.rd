<resource schema="esapspec" resdir=".">
  <meta name="creationDate">2026-12-02T00:00:00Z</meta>
  <meta name="title">esap-lab demo spectra</meta>
  <meta name="description">Three dozen synthetic optical spectra (3800 to 7200 Angstrom) of
    stars, galaxies and quasars in the esap-lab demo field, searchable through SSA and
    delivered as FITS or, through DataLink, as SDM VOTables with spectral cutouts.</meta>
  <meta name="subject">spectroscopy</meta>
  <meta name="creator">esap-lab</meta>
  <meta name="instrument">Synthetic spectrograph</meta>
  <meta name="facility">esap-lab demo observatory</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Archive</meta>
  <meta name="coverage.waveband">Optical</meta>
  <meta name="ssap.dataSource">pointed</meta>
  <meta name="ssap.creationType">archival</meta>
  <meta name="productType">spectrum</meta>
  <meta name="ssap.testQuery">MAXREC=1</meta>

  <table id="spectra_meta" onDisk="True" adql="hidden" namePath="//ssap#instance">
    <LOOP listItems="ssa_dateObs ssa_dstitle ssa_targname ssa_targclass ssa_redshift
        ssa_length ssa_specres ssa_timeExt ssa_specstart ssa_specend">
      <events><column original="\item"/></events>
    </LOOP>
    <mixin>//products#table</mixin>
    <mixin>//ssap#plainlocation</mixin>
    <mixin>//ssap#simpleCoverage</mixin>
    <FEED source="//scs#splitPosIndex"
      long="degrees(long(ssa_location))" lat="degrees(lat(ssa_location))"/>
  </table>

  <data id="import">
    <recreateAfter>make_ssa</recreateAfter>
    <sources pattern="data/*.fits"/>
    <fitsProdGrammar qnd="True">
      <rowfilter procDef="//products#define">
        <bind key="table">"\schema.spectra_meta"</bind>
        <bind key="mime">"application/fits"</bind>
        <bind key="preview">None</bind>
      </rowfilter>
    </fitsProdGrammar>
    <make table="spectra_meta">
      <rowmaker idmaps="*">
        <apply procDef="//ssap#fill-plainlocation">
          <bind key="ra">float(@RA)</bind>
          <bind key="dec">float(@DEC)</bind>
          <bind key="aperture">3/3600.</bind>
        </apply>
        <map key="ssa_dateObs">dateTimeToMJD(parseTimestamp(@DATE_OBS, "%Y-%m-%dT%H:%M:%S"))</map>
        <map key="ssa_dstitle">"Synthetic spectrum of "+@OBJECT</map>
        <map key="ssa_targname">@OBJECT</map>
        <map key="ssa_targclass">@OBJCLASS</map>
        <map key="ssa_redshift">float(@REDSHIFT)</map>
        <!-- SSA wants the spectral axis in metres -->
        <map key="ssa_specstart">float(@WAVMIN)*1e-10</map>
        <map key="ssa_specend">float(@WAVMAX)*1e-10</map>
        <map key="ssa_specres">float(@SPECRES)*1e-10</map>
        <map key="ssa_length">int(@NPIX)</map>
        <map key="ssa_timeExt">float(@EXPTIME)</map>
      </rowmaker>
    </make>
  </data>

  <table id="ssa" onDisk="True" adql="True">
    <meta name="description">SSA view of the esap-lab demo spectra</meta>
    <meta name="_associatedDatalinkService">
      <meta name="serviceId">sdl</meta>
      <meta name="idColumn">ssa_pubDID</meta>
    </meta>
    <mixin sourcetable="spectra_meta" copiedcolumns="*"
      ssa_aperture="3/3600."
      ssa_fluxunit="'erg.s**-1.cm**-2.Angstrom**-1'"
      ssa_spectralunit="'Angstrom'"
      ssa_bandpass="'Optical'"
      ssa_collection="'esap-lab demo spectra'"
      ssa_fluxcalib="'ABSOLUTE'"
      ssa_fluxucd="'phot.flux.density;em.wl'"
      ssa_speccalib="'ABSOLUTE'"
      ssa_spectralucd="'em.wl'"
      ssa_region="ssa_region">//ssap#view</mixin>
  </table>

  <data id="make_ssa" auto="False">
    <make table="ssa"/>
  </data>

  <table id="sdm" onDisk="False">
    <meta name="description">One esap-lab demo spectrum in the Spectral Data Model</meta>
    <mixin ssaTable="ssa" spectralDescription="Wavelength"
      fluxDescription="Flux density">//ssap#sdm-instance</mixin>
  </table>

  <data id="sdm_build" auto="False">
    <embeddedGrammar>
      <iterator>
        <setup imports="os, gavo.base"/>
        <code>
          from astropy.io import fits
          with fits.open(os.path.join(base.getConfig("inputsDir"),
              self.sourceToken["accref"])) as hdus:
            rows = hdus["SPECTRUM"].data
            for lam, flux in zip(rows["WAVELENGTH"], rows["FLUX"]):
              yield {"spectral": float(lam), "flux": float(flux)}
        </code>
      </iterator>
    </embeddedGrammar>
    <make table="sdm">
      <parmaker><apply procDef="//ssap#feedSSAToSDM"/></parmaker>
    </make>
  </data>

  <service id="sdl" allowed="dlget,dlmeta">
    <meta name="title">esap-lab demo spectra datalink</meta>
    <meta name="description">The demo spectra as SDM VOTable, FITS or CSV, with
      cutouts along the spectral axis (BAND, in metres).</meta>
    <datalinkCore>
      <descriptorGenerator procDef="//soda#sdm_genDesc">
        <bind key="ssaTD">"\rdId#ssa"</bind>
      </descriptorGenerator>
      <dataFunction procDef="//soda#sdm_genData">
        <bind key="builder">"\rdId#sdm_build"</bind>
      </dataFunction>
      <FEED source="//soda#sdm_plainfluxcalib"/>
      <FEED source="//soda#sdm_cutout"/>
      <FEED source="//soda#sdm_format"/>
    </datalinkCore>
  </service>

  <service id="ssap" allowed="form,ssap.xml">
    <meta name="shortName">esapdemo ssa</meta>
    <meta name="title">esap-lab demo spectra search</meta>
    <meta name="ssap.complianceLevel">full</meta>
    <publish render="ssap.xml" sets="ivo_managed,local"/>
    <ssapCore queriedTable="ssa">
      <FEED source="//ssap#hcd_condDescs"/>
    </ssapCore>
  </service>
</resource>
