<resource schema="esapimg" resdir=".">
  <meta name="creationDate">2026-12-02T00:00:00Z</meta>
  <meta name="title">esap-lab demo images with DataLink and SODA</meta>
  <meta name="description">The esap-lab demo images (copies of esapdemo's) with a DataLink
    service per image: the full FITS, a preview and SODA cutouts by CIRCLE, POLYGON, POS or
    pixel ranges; and a HiPS of all of them for sky viewers.</meta>
  <meta name="subject">images</meta>
  <meta name="creator">esap-lab</meta>
  <meta name="instrument">Synthetic</meta>
  <meta name="facility">esap-lab demo observatory</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Archive</meta>
  <meta name="coverage.waveband">Optical</meta>

  <table id="images" onDisk="True" mixin="//siap#pgs" adql="True">
    <meta name="description">Synthetic images, each with a DataLink/SODA service</meta>
    <meta name="_associatedDatalinkService">
      <meta name="serviceId">dl</meta>
      <meta name="idColumn">obs_publisher_did</meta>
    </meta>
    <column name="obs_publisher_did" type="text" ucd="meta.ref.ivoid" verbLevel="1"
      tablehead="Dataset id"
      description="Publisher's dataset identifier (the ID of the datalink service)"/>
    <mixin calibLevel="2" collectionName="'esapdemo-dl'"
      did="obs_publisher_did">//obscore#publishSIAP</mixin>
  </table>

  <data id="import">
    <sources pattern="data/*.fits"/>
    <fitsProdGrammar>
      <rowfilter procDef="//products#define">
        <bind key="table">"\schema.images"</bind>
      </rowfilter>
    </fitsProdGrammar>
    <make table="images">
      <rowmaker>
        <apply procDef="//siap#setMeta">
          <bind key="dateObs">@DATE_OBS</bind>
          <bind key="bandpassId">@FILTER</bind>
          <bind key="pixflags">"F"</bind>
          <bind key="title">"Synthetic image "+@OBJECT+" (DataLink)"</bind>
        </apply>
        <apply procDef="//siap#getBandFromFilter"/>
        <apply procDef="//siap#computePGS"/>
        <map key="obs_publisher_did">\standardPubDID</map>
      </rowmaker>
    </make>
  </data>

  <service id="siap" allowed="form,siap.xml">
    <meta name="shortName">esapdemo siap dl</meta>
    <meta name="title">esap-lab demo image search with cutouts</meta>
    <meta name="sia.type">Pointed</meta>
    <meta name="testQuery.pos.ra">155</meta><meta name="testQuery.pos.dec">5</meta>
    <meta name="testQuery.size.ra">0.1</meta><meta name="testQuery.size.dec">0.1</meta>
    <publish render="siap.xml" sets="ivo_managed,local"/>
    <dbCore queriedTable="images">
      <condDesc original="//siap#protoInput"/>
      <condDesc original="//siap#humanInput"/>
    </dbCore>
  </service>

  <service id="dl" allowed="dlget,dlmeta">
    <meta name="title">esap-lab demo image DataLink and SODA</meta>
    <meta name="description">Links for one demo image (the FITS, a preview) and a SODA
      cutout processor (CIRCLE, POLYGON, POS, PIXEL_n, RA/DEC ranges).</meta>
    <datalinkCore>
      <descriptorGenerator procDef="//soda#fits_genDesc">
        <bind key="accrefPrefix">'esapimg/data'</bind>
      </descriptorGenerator>
      <FEED source="//soda#fits_standardDLFuncs"/>
    </datalinkCore>
  </service>

  <!-- the HiPS (built by make_hips.py into hips/) as static files -->
  <service id="hips" allowed="static">
    <meta name="title">esap-lab demo images HiPS</meta>
    <property name="staticData">hips</property>
    <nullCore/>
  </service>
</resource>
