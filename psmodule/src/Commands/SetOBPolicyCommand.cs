using System.Collections.Generic;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Set-OBPolicy: commit a policy as this server's file and folder policy, replacing the previous
    /// one. Returns the committed policy (State Existing, a GUID PolicyName, data source ids). The
    /// policy object's PolicyState (Set-OBPolicyState) is committed with it.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "OBPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(OBPolicy))]
    public sealed class SetOBPolicyCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        protected override void Execute()
        {
            string action = string.Format("Replace the backup policy of this server with a policy of {0} file spec(s)", Policy.Specs.Count);
            if (!ShouldProcess(ServerNameHint(), action))
                return;
            var specs = new List<PolicyFileSpecInfo>();
            foreach (OBFileSpec s in Policy.Specs)
                specs.Add(new PolicyFileSpecInfo { Spec = s.NormalizedPath ?? s.FileSpec, IsExclude = s.IsExclude, IsRecursive = s.IsRecursive });
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                OBPolicy committed;
                using (PolicyHandle policy = Native.PolicyCommit(agent, specs))
                {
                    committed = ToOBPolicy(policy);
                }
                if (committed.PolicyState != Policy.PolicyState)
                {
                    Native.PolicySetState(agent, (int)Policy.PolicyState);
                    committed.PolicyState = Policy.PolicyState;
                }
                WriteObject(committed);
            }
        }
    }
}
