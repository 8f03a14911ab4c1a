using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>New-OBPolicy: an empty file and folder policy (State New), kept in PowerShell until Set-OBPolicy.</summary>
    [Cmdlet(VerbsCommon.New, "OBPolicy")]
    [OutputType(typeof(OBPolicy))]
    public sealed class NewOBPolicyCommand : OBCmdletBase
    {
        protected override void Execute()
        {
            WriteObject(new OBPolicy());
        }
    }
}
