/** The sky view's, DataLink's and SAMP's calls of the esap-lab REST API. */
import { apiUrl, requestAPI, Schemas } from '../api';

export type ISurvey = Schemas['Survey'];
export type IPositions = Schemas['Positions'];
export type IRowLinks = Schemas['RowLinks'];
export type ICutout = Schemas['Cutout'];
export type ISignedLink = Schemas['SignedLink'];
export type IReceived = Schemas['Received'];

export const skyApi = {
  surveys: async (): Promise<ISurvey[]> =>
    (await requestAPI<Schemas['SurveyList']>('sky/surveys')).surveys,
  /** Where the browser reads a survey (served ones from this server). */
  surveyUrl: (s: ISurvey): string => s.url ?? apiUrl(`sky/hips/${encodeURIComponent(s.id)}`),
  /** `target`: `queries/{id}` or `tables/{id}` (see plots/axes targetOf). */
  positions: (target: string, sort?: string | null, order?: string): Promise<IPositions> =>
    requestAPI<IPositions>(`${target}/positions`, {
      query: { sort: sort ?? undefined, order: sort ? order : undefined }
    }),
  links: (qid: string, row: number): Promise<IRowLinks> =>
    requestAPI<IRowLinks>(`queries/${encodeURIComponent(qid)}/rows/${row}/links`),
  cutout: (body: Schemas['CutoutBody']): Promise<ICutout> =>
    requestAPI<ICutout>('cutouts', { method: 'POST', json: body }),
  sampLink: (body: Schemas['LinkBody']): Promise<ISignedLink> =>
    requestAPI<ISignedLink>('samp/links', { method: 'POST', json: body }),
  sampReceived: (data: ArrayBuffer, name: string, sender: string, format: 'votable' | 'fits'): Promise<IReceived> =>
    requestAPI<IReceived>('samp/received', {
      method: 'POST',
      body: data,
      headers: { 'Content-Type': format === 'fits' ? 'application/fits' : 'application/x-votable+xml' },
      query: { name, sender, format }
    })
};
