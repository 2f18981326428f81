"""Study 1: employer interviews -> employer demand profile.

Order: ``transcripts.read_transcript`` -> ``redaction.redact`` -> ``transcripts.segment_turns`` ->
``coding.code_segments`` (against ``codebook.load_codebook``) -> ``profile.code_frequencies`` /
``profile.demand_profile``. Segment offsets refer to the redacted text. Checks on the coding: ``reliability``
(agreement), ``suggest`` (classifiers, themes), ``review`` (coder pairs, the review project). REFI-QDA:
``qdc`` (code trees, .qdc) <- ``codebook`` <- ``qdpx`` (projects). ``study`` holds the steps the flow wires.
"""
