"""Turn this DaCHS's own OAI-PMH records (ivo_vor) into CSV files for the RegTAP 1.1 tables of
regtap/q.rd (schema rr): resource, capability, interface, res_subject, res_role, res_detail,
res_table, table_column.  Values are normalised as RegTAP asks (lower-case ivoids, standard ids
and types; hash-lists for waveband and content level).  Standard library only:
    oai2csv.py OAI.xml OUTDIR
Prints a digest of what matters for the registry (not the harvest dates), for the caller's stamp.
"""
import csv
import hashlib
import os
import sys
import xml.etree.ElementTree as ET

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
TABLES = {
    "resource": ["ivoid", "res_type", "created", "short_name", "res_title", "updated",
                 "content_level", "res_description", "reference_url", "creator_seq",
                 "content_type", "source_format", "source_value", "res_version", "region_of_regard",
                 "waveband", "rights", "rights_uri", "harvested_from"],
    "capability": ["ivoid", "cap_index", "cap_name", "cap_type", "cap_description", "standard_id"],
    "interface": ["ivoid", "cap_index", "intf_index", "intf_type", "intf_role", "std_version",
                  "query_type", "result_type", "wsdl_url", "url_use", "access_url", "mirror_url",
                  "authenticated_only", "security_method_id"],
    "res_subject": ["ivoid", "res_subject"],
    "res_role": ["ivoid", "role_name", "role_ivoid", "street_address", "email", "telephone",
                 "logo", "base_role", "role_index"],
    "res_detail": ["ivoid", "cap_index", "detail_xpath", "detail_value"],
    "res_table": ["ivoid", "schema_index", "schema_description", "schema_name", "schema_title",
                  "schema_utype", "table_index", "table_description", "table_name", "table_title",
                  "table_type", "table_utype", "nrows"],
    "table_column": ["ivoid", "table_index", "name", "ucd", "unit", "utype", "std", "datatype",
                     "extended_schema", "extended_type", "arraysize", "delim", "type_system",
                     "flag", "column_description"],
}


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child(el, name):
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def children(el, name):
    return [c for c in el if local(c.tag) == name]


def text(el, name):
    c = child(el, name) if el is not None else None
    return " ".join(c.text.split()) if c is not None and c.text else ""


def norm_type(value):
    return (value or "").lower()


def main(src, out):
    rows = {t: [] for t in TABLES}
    for res in ET.parse(src).getroot().iter():
        if local(res.tag) != "Resource":
            continue
        ivoid = text(res, "identifier").lower()
        content, curation = child(res, "content"), child(res, "curation")
        coverage = child(res, "coverage")
        bands = [c.text.strip().lower() for c in children(coverage, "waveband")] if coverage is not None else []
        levels = [c.text.strip().lower() for c in children(content, "contentLevel")] if content is not None else []
        creators = [text(c, "name") for c in children(curation, "creator")] if curation is not None else []
        rows["resource"].append({
            "ivoid": ivoid, "res_type": norm_type(res.get(XSI_TYPE)), "created": res.get("created", ""),
            "short_name": text(res, "shortName"), "res_title": text(res, "title"),
            "updated": res.get("updated", ""), "content_level": "#".join(levels),
            "res_description": text(content, "description"), "reference_url": text(content, "referenceURL"),
            "creator_seq": ";".join(creators), "content_type": "#".join(
                c.text.strip().lower() for c in children(content, "type")) if content is not None else "",
            "source_format": "", "source_value": text(content, "source"), "res_version": "",
            "region_of_regard": "", "waveband": "#".join(bands), "rights": text(res, "rights"),
            "rights_uri": "", "harvested_from": "ivo://esaplab.demo/__system__/services/registry"})
        for s in children(content, "subject") if content is not None else []:
            rows["res_subject"].append({"ivoid": ivoid, "res_subject": s.text.strip()})
        if curation is not None:
            k = 0
            for role in ("publisher", "creator", "contact"):
                for r in children(curation, role):
                    k += 1
                    name = r.text.strip() if role == "publisher" and r.text else text(r, "name")
                    rows["res_role"].append({"ivoid": ivoid, "role_name": name, "role_ivoid": (r.get("ivo-id") or "").lower(),
                                             "email": text(r, "email"), "base_role": role, "role_index": k})
        for ci, cap in enumerate(children(res, "capability"), 1):
            rows["capability"].append({
                "ivoid": ivoid, "cap_index": ci, "cap_name": "", "cap_type": norm_type(cap.get(XSI_TYPE)),
                "cap_description": text(cap, "description"), "standard_id": (cap.get("standardID") or "").lower()})
            for ii, intf in enumerate(children(cap, "interface"), 1):
                url = child(intf, "accessURL")
                rows["interface"].append({
                    "ivoid": ivoid, "cap_index": ci, "intf_index": ii, "intf_type": norm_type(intf.get(XSI_TYPE)),
                    "intf_role": intf.get("role", ""), "std_version": intf.get("version", ""),
                    "query_type": text(intf, "queryType"), "result_type": text(intf, "resultType"),
                    "url_use": url.get("use", "") if url is not None else "",
                    "access_url": (url.text or "").strip() if url is not None else "",
                    "authenticated_only": 0})
            for dm in children(cap, "dataModel"):
                rows["res_detail"].append({"ivoid": ivoid, "cap_index": ci,
                                           "detail_xpath": "/capability/dataModel/@ivo-id",
                                           "detail_value": (dm.get("ivo-id") or "").lower()})
        tableset = child(res, "tableset")
        ti = 0
        for si, schema in enumerate(children(tableset, "schema") if tableset is not None else [], 1):
            for table in children(schema, "table"):
                ti += 1
                rows["res_table"].append({
                    "ivoid": ivoid, "schema_index": si, "schema_description": text(schema, "description"),
                    "schema_name": text(schema, "name"), "schema_title": text(schema, "title"),
                    "table_index": ti, "table_description": text(table, "description"),
                    "table_name": text(table, "name"), "table_title": text(table, "title"),
                    "table_type": table.get("type", "")})
                for col in children(table, "column"):
                    dt = child(col, "dataType")
                    rows["table_column"].append({
                        "ivoid": ivoid, "table_index": ti, "name": text(col, "name"), "ucd": text(col, "ucd"),
                        "unit": text(col, "unit"), "utype": text(col, "utype"), "std": 1 if col.get("std") == "true" else 0,
                        "datatype": (dt.text or "").strip() if dt is not None else "",
                        "arraysize": dt.get("arraysize", "") if dt is not None else "",
                        "type_system": norm_type(dt.get(XSI_TYPE)) if dt is not None else "",
                        "column_description": text(col, "description")})
    os.makedirs(out, exist_ok=True)
    digest = hashlib.sha256()
    for name, cols in TABLES.items():
        with open(os.path.join(out, name + ".csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols, restval="")
            w.writeheader()
            w.writerows(rows[name])
        if name in ("capability", "interface", "res_subject"):
            with open(os.path.join(out, name + ".csv"), "rb") as f:
                digest.update(f.read())
    digest.update(" ".join(sorted(r["ivoid"] for r in rows["resource"])).encode())
    print(digest.hexdigest()[:16])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
