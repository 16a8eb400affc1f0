"""Raw-format readers (VPT, AgiBot) and the synthetic recording generators.

Readers turn a raw episode into a :class:`goalframe.schemas.RawEpisode` (arrays parsed
and validated, frames left in the mp4 files); storage writes it.
"""
