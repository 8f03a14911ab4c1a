using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent
{
    /// <summary>
    /// Runs when Import-Module loads OBAgent.dll: loads libobagent from the module folder and
    /// calls ob_init once for the process.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        public void OnImport()
        {
            Native.EnsureInitialized();
        }
    }
}
