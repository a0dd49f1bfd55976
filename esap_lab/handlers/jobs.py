"""Batch job endpoints: backends, jobs, their logs and outputs."""

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..jobs.models import (BackendList, BackendParams, JobInfo, JobList, JobLog, JobOutput, ListParams, LogParams,
                           SubmitBody)
from .base import ApiHandler, api


class JobsApiHandler(ApiHandler):
    @property
    def jobs(self):
        """The job manager (esap_lab.jobs.JobManager)."""
        return self.esap.jobs


class BackendsHandler(JobsApiHandler):
    @api("The configured batch backends and whether each can take jobs now", query=BackendParams,
         response=BackendList)
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(BackendParams)
        self.send(BackendList(backends=await self.jobs.list_backends(check=p.check)))


class JobsHandler(JobsApiHandler):
    @api("Submit a notebook as a batch job", body=SubmitBody, response=JobInfo, status=201,
         errors=(400, 404, 502, 504), links={"jid": "/id"})
    @web.authenticated
    @authorized
    async def post(self):
        body = self.parse_body(SubmitBody)
        self.send(await self.jobs.submit(body), status=201)

    @api("List jobs, newest first", query=ListParams, response=JobList, errors=(400,))
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(ListParams)
        statuses = [s for s in (p.status or "").split(",") if s] or None
        self.send(JobList(jobs=await self.jobs.list(statuses, p.backend, p.limit)))


class JobHandler(JobsApiHandler):
    @api("A job: status (normalised and native), times, parameters, resources, output", response=JobInfo,
         errors=(404,))
    @web.authenticated
    @authorized
    async def get(self, jid: str):
        self.send(await self.jobs.get(jid))

    @api("Cancel an active job (200, the job as cancelled); remove an ended one from the list (204, its "
         "folder is kept)", response=JobInfo, also=(204,), errors=(404, 502, 504))
    @web.authenticated
    @authorized
    async def delete(self, jid: str):
        info = await self.jobs.cancel_or_forget(jid)
        if info is None:
            self.set_status(204)
            self.finish()
        else:
            self.send(info)


class JobResubmitHandler(JobsApiHandler):
    @api("Submit the job again: same notebook, parameters, resources, basket snapshot and backend",
         response=JobInfo, status=201, errors=(400, 404, 502, 504), links={"jid": "/id"})
    @web.authenticated
    @authorized
    async def post(self, jid: str):
        self.send(await self.jobs.resubmit(jid), status=201)


class JobLogHandler(JobsApiHandler):
    @api("The job's standard output and error (tails) and its state changes", query=LogParams, response=JobLog,
         errors=(404,))
    @web.authenticated
    @authorized
    async def get(self, jid: str):
        p = self.parse_query(LogParams)
        self.send(await self.jobs.logs(jid, p.tail))


class JobOutputHandler(JobsApiHandler):
    @api("Where the executed notebook and the job's other files are (paths under the server root)",
         response=JobOutput, errors=(404, 409))
    @web.authenticated
    @authorized
    async def get(self, jid: str):
        self.send(await self.jobs.output(jid))
