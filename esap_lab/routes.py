"""The whole REST surface of esap-lab in one table: URL pattern -> handler.

Patterns are relative to API_PREFIX (which the server puts under its base_url). Named groups
become handler arguments and OpenAPI path parameters.
"""

from .handlers import archives, basket, jobs, meta, previews, sky, software, staging, tables
from .handlers import registry

API_PREFIX = "/esap-lab/api"

ID = r"[A-Za-z0-9_.:-]+"

ROUTES: list[tuple[str, type]] = [
    (r"/openapi.json", meta.OpenAPIHandler),
    (r"/version", meta.VersionHandler),
    # discovery
    (r"/archives", archives.ArchivesHandler),
    (rf"/archives/(?P<archive>{ID})", registry.ArchiveHandler),
    (r"/registry", registry.RegistryHandler),
    (rf"/archives/(?P<archive>{ID})/queries", archives.ArchiveQueriesHandler),
    (rf"/archives/(?P<archive>{ID})/tables", archives.ArchiveTablesHandler),
    (rf"/archives/(?P<archive>{ID})/tables/(?P<table>[^/?#][^?#]*)", archives.ArchiveTableHandler),
    (rf"/archives/(?P<archive>{ID})/examples", archives.ArchiveExamplesHandler),
    (r"/searches", archives.SearchesHandler),
    (rf"/searches/(?P<sid>{ID})", archives.SearchHandler),
    (rf"/searches/(?P<sid>{ID})/merge", archives.SearchMergeHandler),
    (r"/queries", archives.QueriesHandler),
    (rf"/queries/(?P<qid>{ID})", archives.QueryHandler),
    (rf"/queries/(?P<qid>{ID})/rows", archives.QueryRowsHandler),
    (rf"/queries/(?P<qid>{ID})/export", previews.QueryExportHandler),
    (rf"/queries/(?P<qid>{ID})/plot", previews.QueryPlotHandler),
    (rf"/queries/(?P<qid>{ID})/select", previews.QuerySelectHandler),
    # basket
    (r"/basket", basket.BasketHandler),
    (r"/basket/items", basket.BasketItemsHandler),
    (rf"/basket/items/(?P<iid>{ID})", basket.BasketItemHandler),
    (r"/basket/export", basket.BasketExportHandler),
    (r"/basket/import", basket.BasketImportHandler),
    (r"/basket/export/table", previews.BasketTableExportHandler),
    # batch jobs
    (r"/backends", jobs.BackendsHandler),
    (r"/jobs", jobs.JobsHandler),
    (rf"/jobs/(?P<jid>{ID})", jobs.JobHandler),
    (rf"/jobs/(?P<jid>{ID})/resubmit", jobs.JobResubmitHandler),
    (rf"/jobs/(?P<jid>{ID})/log", jobs.JobLogHandler),
    (rf"/jobs/(?P<jid>{ID})/output", jobs.JobOutputHandler),
    # staging (Rucio and plain URLs)
    (r"/staging", staging.TransfersHandler),
    (rf"/staging/(?P<tid>{ID})", staging.TransferHandler),
    (r"/rucio", staging.RucioInstancesHandler),
    (rf"/rucio/(?P<instance>{ID})/dids/(?P<scope>[A-Za-z0-9_.-]+)/(?P<name>.+)/files", staging.DidFilesHandler),
    # software from the OSSR (suggestions before the record pattern, which would match it)
    (r"/software", software.SoftwareSearchHandler),
    (r"/software/suggestions", software.SoftwareSuggestionsHandler),
    (r"/software/opens", software.SoftwareOpensHandler),
    (rf"/software/opens/(?P<oid>{ID})", software.SoftwareOpenOperationHandler),
    (rf"/software/(?P<rid>{ID})", software.SoftwareRecordHandler),
    (rf"/software/(?P<rid>{ID})/open", software.SoftwareOpenHandler),
    (rf"/software/(?P<rid>{ID})/opens", software.SoftwareStartOpenHandler),
    (rf"/software/(?P<rid>{ID})/run", software.SoftwareRunHandler),
    (rf"/rucio/(?P<instance>{ID})/scopes", staging.ScopesHandler),
    # my tables (the fixed names before the table pattern, which would match them)
    (r"/tables", tables.TablesHandler),
    (r"/tables/upload", tables.TableUploadHandler),
    (r"/tables/sql", tables.TableSqlHandler),
    (r"/tables/crossmatch", tables.TableCrossmatchHandler),
    (rf"/tables/(?P<t>{ID})", tables.TableHandler),
    (rf"/tables/(?P<t>{ID})/rows", tables.TableRowsHandler),
    (rf"/tables/(?P<t>{ID})/export", tables.TableExportHandler),
    (rf"/tables/(?P<t>{ID})/plot", previews.TablePlotHandler),
    (rf"/tables/(?P<t>{ID})/select", previews.TableSelectHandler),
    (rf"/tables/(?P<t>{ID})/positions", sky.TablePositionsHandler),
    # previews of images and spectra
    (r"/previews", previews.PreviewHandler),
    # the sky view, DataLink and SODA cutouts, SAMP
    (r"/sky/surveys", sky.SurveysHandler),
    (rf"/sky/hips/(?P<sid>{ID})/(?P<rel>[A-Za-z0-9_./-]+)", sky.HipsFileHandler),
    (rf"/queries/(?P<qid>{ID})/positions", sky.QueryPositionsHandler),
    (rf"/queries/(?P<qid>{ID})/rows/(?P<row>[0-9]{{1,12}})/links", sky.RowLinksHandler),
    (r"/cutouts", sky.CutoutsHandler),
    (r"/samp/links", sky.SampLinksHandler),
    (r"/samp/tables/(?P<token>[A-Za-z0-9_=.-]+)", sky.SampTableHandler),
    (r"/samp/received", sky.SampReceivedHandler),
]


# Last: whatever else is under the prefix gets a JSON 404 (not in ROUTES: it is no operation).
FALLBACK = (r"/.*", meta.NotFoundHandler)


def handlers() -> list[tuple[str, type]]:
    return [(API_PREFIX + pattern, handler) for pattern, handler in [*ROUTES, FALLBACK]]
