"""
Speed-ups for moto_server in the end-to-end tests; test/helpers/moto.ts puts this directory on the server's
PYTHONPATH, so Python loads this file at start-up, whatever the installation (pip, pipx, pyenv).

With AWS managed policies loaded (MOTO_IAM_LOAD_MANAGED_POLICIES), moto 5 spends most of its CPU time building
IAM backends: each one parses the ~4 MB policy data and makes ~1,500 policy objects, and
 - every request looks its access key up in the IAM backend of every partition (aws, aws-cn, aws-us-gov, the
   aws-iso ones...), which creates all of them: about eight backends after each reset, ~1 s of CPU;
 - the data is parsed again for each backend.
Here the key lookup reads only the backends that exist (a backend about to be created holds no keys, so the
answer is the same), and the data is parsed once. What the emulator answers does not change.

Each patch applies only when moto's code still has the shape it was written for; otherwise moto runs as it is.
"""

import importlib.abc
import importlib.util
import json
import os
import sys


def _patch_iam_models(models):
    try:
        backends = models.iam_backends
        default_account = models.DEFAULT_ACCOUNT_ID
        partitions = models.PARTITION_NAMES
        original_lookup = models.get_account_id_from
    except AttributeError:
        pass
    else:
        if list(original_lookup.__code__.co_varnames[:1]) == ["access_key"] and partitions:

            def get_account_id_from(access_key):
                for account_id, account in list(backends.items()):
                    for backend in list(account.values()):
                        if access_key in backend.access_keys:
                            return account_id
                return default_account

            models.get_account_id_from = get_account_id_from

    try:
        data = models.aws_managed_policies_data
        load = models.load_iam_aws_managed_policies
        policy_class = models.AWSManagedPolicy
        backend_class = models.IAMBackend
        _ = policy_class.from_data
        _ = backend_class._init_aws_policies
    except AttributeError:
        return
    parsed = {}

    def _init_aws_policies(self):
        if not load():
            return []
        if not parsed:
            parsed.update(json.loads(data))
        return [policy_class.from_data(name, self.account_id, self.region_name, d) for name, d in parsed.items()]

    backend_class._init_aws_policies = _init_aws_policies


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Runs the patch right after moto.iam.models is first imported (moto imports its services lazily)."""

    target = "moto.iam.models"

    def find_spec(self, name, path=None, target=None):
        if name != self.target:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            try:
                _patch_iam_models(module)
            except Exception as err:  # never break the emulator for a speed-up
                print(f"moto-speedups: not applied ({err!r})", file=sys.stderr)

        spec.loader.exec_module = exec_and_patch
        return spec


if os.environ.get("FLYTE_AWS_SETUP_MOTO_SPEEDUPS") != "0":
    sys.meta_path.insert(0, _PatchOnImport())


def _chain_next_sitecustomize():
    """Load the sitecustomize this one hides (a distribution may have one), as Python would have."""
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        if not entry or os.path.abspath(entry) == here:
            continue
        candidate = os.path.join(entry, "sitecustomize.py")
        if os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_next_sitecustomize", candidate)
            if spec and spec.loader:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


_chain_next_sitecustomize()
