"""A FediTest node driver for a Roost server already running at a hostname:
Roost's accounts are named in the node's parameters (``account``,
``non_existing_account``) and handed to tests that ask for an account
without a role, as FediTest's WebFinger tests do."""

from feditest import nodedriver
from feditest.nodedrivers import DefaultAccountManager
from feditest.nodedrivers.saas import FediverseSaasNodeDriver
from feditest.protocols.fediverse import FediverseAccount, FediverseNonExistingAccount


@nodedriver
class RoostSaasNodeDriver(FediverseSaasNodeDriver):
    def create_configuration_account_manager(self, rolename, test_plan_node):
        config, _ = super().create_configuration_account_manager(rolename, test_plan_node)
        parameters = test_plan_node.parameters or {}
        manager = DefaultAccountManager(
            [FediverseAccount(None, str(parameters["account"]))],
            [FediverseNonExistingAccount(None, str(parameters["non_existing_account"]))],
        )
        return config, manager
