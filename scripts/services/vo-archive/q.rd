<resource schema="esapdemo" resdir=".">
  <meta name="creationDate">2026-01-01T00:00:00Z</meta>
  <meta name="title">esap-lab demo archive</meta>
  <meta name="description">A synthetic catalogue of sources and a few images for esap-lab demos and tests.</meta>
  <meta name="subject">catalogs</meta>
  <meta name="creator">esap-lab</meta>
  <meta name="instrument">Synthetic</meta>
  <meta name="facility">esap-lab demo observatory</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Catalog</meta>
  <meta name="coverage.waveband">Optical</meta>

  <table id="sources" onDisk="True" mixin="//scs#q3cindex" adql="True" primary="source_id">
    <meta name="description">Synthetic point sources with V, B and R magnitudes</meta>
    <stc>Position ICRS "ra" "dec"</stc>
    <column name="source_id" type="integer" ucd="meta.id;meta.main" required="True"
      description="Source identifier"/>
    <column name="ra" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
      description="Right ascension (ICRS)"/>
    <column name="dec" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
      description="Declination (ICRS)"/>
    <column name="vmag" type="real" unit="mag" ucd="phot.mag;em.opt.V" description="V magnitude"/>
    <column name="bmag" type="real" unit="mag" ucd="phot.mag;em.opt.B" description="B magnitude"/>
    <column name="rmag" type="real" unit="mag" ucd="phot.mag;em.opt.R" description="R magnitude"/>
  </table>
  <data id="import">
    <sources>data/sources.csv</sources>
    <csvGrammar/>
    <make table="sources"><rowmaker idmaps="*"/></make>
  </data>
  <service id="cone" allowed="form,scs.xml">
    <meta name="shortName">esapdemo cone</meta>
    <meta name="title">esap-lab demo cone search</meta>
    <meta name="testQuery"><meta name="ra">155</meta><meta name="dec">5</meta>
      <meta name="sr">0.2</meta></meta>
    <publish render="scs.xml" sets="ivo_managed,local"/>
    <scsCore queriedTable="sources"><FEED source="//scs#coreDescs"/></scsCore>
  </service>

  <table id="images" onDisk="True" mixin="//siap#pgs" adql="True">
    <meta name="description">Synthetic images</meta>
    <mixin calibLevel="2" collectionName="'esapdemo'">//obscore#publishSIAP</mixin>
  </table>
  <data id="import_images">
    <sources pattern="data/img/*.fits"/>
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
          <bind key="title">"Synthetic image "+@OBJECT</bind>
        </apply>
        <apply procDef="//siap#getBandFromFilter"/>
        <apply procDef="//siap#computePGS"/>
      </rowmaker>
    </make>
  </data>
  <service id="siap" allowed="form,siap.xml">
    <meta name="shortName">esapdemo siap</meta>
    <meta name="title">esap-lab demo image search</meta>
    <meta name="sia.type">Pointed</meta>
    <meta name="testQuery.pos.ra">155</meta><meta name="testQuery.pos.dec">5</meta>
    <meta name="testQuery.size.ra">0.1</meta><meta name="testQuery.size.dec">0.1</meta>
    <publish render="siap.xml" sets="ivo_managed,local"/>
    <dbCore queriedTable="images">
      <condDesc original="//siap#protoInput"/>
      <condDesc original="//siap#humanInput"/>
    </dbCore>
  </service>
</resource>
