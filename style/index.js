import './base.css';
import './tables.css';
import './software.css';
import './sky.css';
import './workbench.css';
import './search.css';
