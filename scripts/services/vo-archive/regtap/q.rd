<resource schema="rr" resdir=".">
  <meta name="creationDate">2026-12-02T00:00:00Z</meta>
  <meta name="title">esap-lab demo registry (RegTAP)</meta>
  <meta name="description">A Relational Registry (RegTAP 1.1, the tables pyvo.registry
    queries) of this demo archive's own published services, filled from its OAI-PMH
    publishing registry by oai2csv.py.  Schema rr, as pyvo expects.</meta>
  <meta name="subject">virtual-observatory</meta>
  <meta name="creator">esap-lab</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Other</meta>
  <meta name="utype">ivo://ivoa.net/std/RegTAP#1.1</meta>

  <table id="resource" onDisk="True" adql="True">
    <meta name="description">One row per registered resource</meta>
    <LOOP>
      <csvItems>
name,type,description
ivoid,text,Identifier of the resource (lower case)
res_type,text,Resource type (e.g. vs:catalogservice)
created,text,Creation date
short_name,text,Short name
res_title,text,Title
updated,text,Last update of the record
content_level,text,Hash-list of audiences
res_description,text,Description
reference_url,text,More information
creator_seq,text,Creators separated by semicolons
content_type,text,Hash-list of content types
source_format,text,Format of source_value
source_value,text,Bibliographic source
res_version,text,Version
region_of_regard,real,Spatial resolution (deg)
waveband,text,Hash-list of messengers
rights,text,Rights statement
rights_uri,text,URI of the rights
harvested_from,text,Registry the record came from
      </csvItems>
      <events><column name="\name" type="\type" description="\description"/></events>
    </LOOP>
  </table>

  <table id="capability" onDisk="True" adql="True">
    <meta name="description">The capabilities of each resource</meta>
    <LOOP>
      <csvItems>
name,type,description
ivoid,text,Resource identifier
cap_index,smallint,Position among the resource's capabilities
cap_name,text,Name
cap_type,text,Capability type (e.g. ssap:simplespectralaccess)
cap_description,text,Description
standard_id,text,Standard implemented (lower case)
      </csvItems>
      <events><column name="\name" type="\type" description="\description"/></events>
    </LOOP>
  </table>

  <table id="interface" onDisk="True" adql="True">
    <meta name="description">How each capability is reached</meta>
    <LOOP>
      <csvItems>
name,type,description
ivoid,text,Resource identifier
cap_index,smallint,Capability index
intf_index,smallint,Position among the capability's interfaces
intf_type,text,Interface type (e.g. vs:paramhttp)
intf_role,text,std for standard interfaces
std_version,text,Version of the standard
query_type,text,HTTP verbs
result_type,text,Media type of results
wsdl_url,text,WSDL location
url_use,text,How to use the access URL
access_url,text,The URL
mirror_url,text,Mirrors
authenticated_only,smallint,1 if authentication is required
security_method_id,text,Security method
      </csvItems>
      <events><column name="\name" type="\type" description="\description"/></events>
    </LOOP>
  </table>

  <table id="res_subject" onDisk="True" adql="True">
    <meta name="description">Subject keywords of the resources</meta>
    <column name="ivoid" type="text" description="Resource identifier"/>
    <column name="res_subject" type="text" description="A subject keyword"/>
  </table>

  <table id="res_role" onDisk="True" adql="True">
    <meta name="description">Publishers, creators and contacts</meta>
    <LOOP>
      <csvItems>
name,type,description
ivoid,text,Resource identifier
role_name,text,Name
role_ivoid,text,Identifier of the entity
street_address,text,Address
email,text,Email
telephone,text,Telephone
logo,text,Logo URL
base_role,text,publisher creator or contact
role_index,smallint,Position
      </csvItems>
      <events><column name="\name" type="\type" description="\description"/></events>
    </LOOP>
  </table>

  <table id="res_detail" onDisk="True" adql="True">
    <meta name="description">Further details (xpath/value pairs)</meta>
    <column name="ivoid" type="text" description="Resource identifier"/>
    <column name="cap_index" type="smallint" description="Capability index"/>
    <column name="detail_xpath" type="text" description="What the value is"/>
    <column name="detail_value" type="text" description="The value"/>
  </table>

  <table id="res_table" onDisk="True" adql="True">
    <meta name="description">Tables of the resources' tablesets</meta>
    <LOOP>
      <csvItems>
name,type,description
ivoid,text,Resource identifier
schema_index,smallint,Schema position
schema_description,text,Schema description
schema_name,text,Schema name
schema_title,text,Schema title
schema_utype,text,Schema utype
table_index,smallint,Table position
table_description,text,Table description
table_name,text,Table name
table_title,text,Table title
table_type,text,Table type
table_utype,text,Table utype
nrows,bigint,Number of rows
      </csvItems>
      <events><column name="\name" type="\type" description="\description"/></events>
    </LOOP>
  </table>

  <table id="table_column" onDisk="True" adql="True">
    <meta name="description">Columns of the resources' tables</meta>
    <LOOP>
      <csvItems>
name,type,description
ivoid,text,Resource identifier
table_index,smallint,Table position
name,text,Column name
ucd,text,UCD
unit,text,Unit
utype,text,Utype
std,smallint,1 if defined by a standard
datatype,text,Data type
extended_schema,text,Extended type schema
extended_type,text,Extended type
arraysize,text,Array size
delim,text,Array delimiter
type_system,text,Type system
flag,text,Flags
column_description,text,Description
      </csvItems>
      <events><column name="\name" type="\type" description="\description"/></events>
    </LOOP>
  </table>

  <LOOP listItems="resource capability interface res_subject res_role res_detail res_table table_column">
    <events>
      <data id="import_\item">
        <sources>data/\item.csv</sources>
        <csvGrammar/>
        <make table="\item"><rowmaker idmaps="*"/></make>
      </data>
    </events>
  </LOOP>
</resource>
