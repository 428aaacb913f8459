"""The browser tabletop (``coopsim serve``): every organisation at its own screen, a facilitator's console and observers.

It sits beside the terminal console, above the reports, and uses the engine
only through :mod:`coopsim.engine`. Everything it serves comes from this
package: templates, one stylesheet and one small script, with no CDN and no
build step, so it works offline.
"""
