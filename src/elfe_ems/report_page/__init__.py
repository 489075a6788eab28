"""The self-contained HTML page both reports write (``ems demo``, ``ems backtest``): a Jinja2
template with autoescape (``render``), charts drawn by uPlot from JSON data embedded in the page
(``charts``), the uPlot library and the page's script inlined, so that the one file opens from
disk, offline.

uPlot is the copy the dashboard serves (``web/static/vendor``): this leaf reads those files as
package data, it imports nothing of the package.
"""
