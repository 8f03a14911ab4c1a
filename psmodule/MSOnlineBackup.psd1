@{
    # MSOnlineBackup: the name MARS scripts import (`Import-Module MSOnlineBackup`). The same cmdlets as
    # OBAgent, which this manifest nests from the sibling folder OBAgent (build/module/, or the install
    # layout's Modules folder). Its own GUID: obagent does not claim Microsoft's module identity.
    RootModule           = ''
    ModuleVersion        = '0.1.0'
    GUID                 = 'b1f3c2d4-6a1e-4f0b-9c3d-2e8a7f5b4c61'
    Author               = 'The obagent authors'
    CompanyName          = 'obagent'
    Copyright            = '(c) The obagent authors.'
    Description          = 'obagent under the MARS module name: the MSOnlineBackup cmdlets of obagent, an open cross-platform backup agent (nests the OBAgent module).'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    NestedModules        = @('../OBAgent/OBAgent.psd1')
    CmdletsToExport      = '*'
    DscResourcesToExport = @('OBRegistration', 'OBMachineSetting', 'OBFilePolicy', 'OBSystemStatePolicy')
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Backup', 'MARS', 'MSOnlineBackup', 'Linux', 'Windows')
            ProjectUri = 'https://github.com/obagent/obagent'
        }
    }
}
