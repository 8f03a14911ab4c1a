using System.Management.Automation;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Add-OBSystemState: make a policy object (from New-OBPolicy) a System State policy. Its only
    /// data source becomes "System State" (WriterId and ApplicationId as MARS and Windows Admin
    /// Center read them); file specs it held are dropped. Nothing is committed until
    /// Set-OBSystemStatePolicy. Returns the policy, for the MSOnlineBackup pipeline.
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "OBSystemState", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(OBPolicy))]
    public sealed class AddOBSystemStateCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        protected override void Execute()
        {
            // Low impact: -Confirm:$false (Microsoft's samples) is accepted and nothing prompts by default.
            if (!Policy.IsSystemState && ShouldProcess(Policy.ToString(), "Make this policy object a System State policy"))
            {
                if (Policy.Specs.Count > 0)
                    WriteWarning("The file specs of this policy object are dropped: a System State policy backs up the System State only.");
                Policy.MarkSystemState(Policy.State == PolicyObjectState.Existing ? PolicyMapping.SystemStateDatasourceId : 0);
            }
            WriteObject(Policy);
        }
    }
}
