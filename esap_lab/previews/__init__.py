"""Looking at the data: exports of results and basket records, plots of a whole result computed
on the server, and previews of FITS images and spectra (server side; the kernel API is in
esap_lab.client)."""
