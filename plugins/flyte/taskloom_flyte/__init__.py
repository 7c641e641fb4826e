"""taskloom-flyte: taskloom's definitions on a Flyte cluster.

The flyteidl codec (:mod:`taskloom_flyte.codec`) maps every kernel contract to and from the
flyteidl v1 protobuf messages; protobuf is imported only by this distribution.
"""

__version__ = "0.1.0"
