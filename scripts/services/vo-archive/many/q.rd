<resource schema="esapmany" resdir=".">
  <meta name="creationDate">2026-12-02T00:00:00Z</meta>
  <meta name="title">esap-lab many tables</meta>
  <meta name="description">5,000 tiny table descriptions (two columns each) published through
    the VOSI tables endpoint of the "browse" service: a large tableset for testing that the
    schema browser loads lazily.  They are not in the database nor in TAP_SCHEMA.</meta>
  <meta name="subject">virtual-observatory</meta>
  <meta name="creator">esap-lab</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Other</meta>

  <LOOP>
    <codeItems>
      kinds = ["photometry", "astrometry", "spectroscopy", "variability", "morphology"]
      for i in range(5000):
        yield {"tabno": "%04d" % i, "kind": kinds[i % 5]}
    </codeItems>
    <events>
      <table id="t\tabno" onDisk="False">
        <meta name="description">Tiny \kind table number \tabno</meta>
        <column name="id" type="integer" ucd="meta.id" required="True"
          description="Row identifier"/>
        <column name="val" type="real" description="A \kind value"/>
      </table>
    </events>
  </LOOP>

  <service id="browse" allowed="tableMetadata">
    <meta name="title">esap-lab many tables (VOSI only)</meta>
    <customCore module="res/manycore"/>
  </service>
</resource>
