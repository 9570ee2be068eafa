"""
Speed-ups for moto_server in the end-to-end tests; test/helpers/moto-server.ts puts this directory on the server's
PYTHONPATH (startMoto({ speedups: true })), so Python loads this file at start-up, whatever the installation (pip,
pipx, pyenv). What the emulator answers does not change: each patch only stops moto from redoing work whose result
cannot have changed.

With AWS managed policies loaded (MOTO_IAM_LOAD_MANAGED_POLICIES), moto 5 spends most of its CPU building IAM
backends: each one parses the ~4 MB policy data and makes ~1,500 policy objects, and every request looks its access
key up in the IAM backend of every partition (aws, aws-cn, aws-us-gov, the aws-iso ones...), which creates all of
them: about eight backends after each reset, ~1 s of CPU. Here:
 - moto.iam.models: the key lookup reads only the backends that exist (one about to be created holds no keys, so
   the answer is the same), the policy data is parsed once, and a reset does not fill backends it then drops;
 - moto.backends: the list of moto's service modules (a directory listing, on every request) is read once;
 - moto.core.responses: the method names of a response class (inspect.getmembers, on every request), once a class;
 - moto.eks.utils: CreateCluster's role ARN check reads botocore's partition list through one boto3 session instead
   of a new one (and the endpoint data loaded again) per call.

Each patch applies only when moto's code still has the shape it was written for; otherwise moto runs as it is.
FLYTE_AWS_SETUP_MOTO_SPEEDUPS=0 turns them all off.
"""

import importlib.abc
import importlib.util
import json
import os
import sys
import threading


def _patch_iam_models(models):
    backends = models.iam_backends
    default_account = models.DEFAULT_ACCOUNT_ID
    original_lookup = models.get_account_id_from
    if original_lookup.__code__.co_varnames[:1] == ("access_key",):

        def get_account_id_from(access_key):
            for account_id, account in list(backends.items()):
                for backend in list(account.values()):
                    if access_key in backend.access_keys:
                        return account_id
            return default_account

        models.get_account_id_from = get_account_id_from

    data = models.aws_managed_policies_data
    load = models.load_iam_aws_managed_policies
    policy_class = models.AWSManagedPolicy
    backend_class = models.IAMBackend
    _ = policy_class.from_data, backend_class._init_aws_policies
    parsed = {}
    resetting = threading.local()

    def _init_aws_policies(self):
        if not load() or getattr(resetting, "active", False):
            return []
        if not parsed:
            parsed.update(json.loads(data))
        return [policy_class.from_data(name, self.account_id, self.region_name, d) for name, d in parsed.items()]

    backend_class._init_aws_policies = _init_aws_policies

    # /moto-api/reset re-initialises every backend, then drops them all (BackendDict.reset): the IAM backends it
    # re-initialises are never used, so they are made without the managed policies. The next request makes a new
    # backend, with them.
    original_reset = backend_class.reset

    def reset(self):
        resetting.active = True
        try:
            original_reset(self)
        finally:
            resetting.active = False

    backend_class.reset = reset


def _patch_backends(backends):
    original = backends.list_of_moto_modules
    cached = []

    def list_of_moto_modules():
        if not cached:
            cached.append(tuple(original()))
        return iter(cached[0])

    backends.list_of_moto_modules = list_of_moto_modules


def _patch_responses(responses):
    original = responses.method_names_from_class
    by_class = {}

    def method_names_from_class(clazz):
        names = by_class.get(clazz)
        if names is None:
            names = by_class[clazz] = original(clazz)
        return list(names)

    responses.method_names_from_class = method_names_from_class


def _patch_eks_utils(utils):
    session_class = utils.Session
    sessions = []

    def one_session():
        if not sessions:
            sessions.append(session_class())
        return sessions[0]

    utils.Session = one_session


PATCHES = {
    "moto.iam.models": _patch_iam_models,
    "moto.backends": _patch_backends,
    "moto.core.responses": _patch_responses,
    "moto.eks.utils": _patch_eks_utils,
}


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Applies a module's patch right after the module is first imported (moto imports its services lazily)."""

    def find_spec(self, name, path=None, target=None):
        patch = PATCHES.pop(name, None)
        if patch is None:
            return None
        if not PATCHES:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            try:
                patch(module)
            except Exception as err:  # never break the emulator for a speed-up
                print(f"moto-speedups: {name} not patched ({err!r})", file=sys.stderr)

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
