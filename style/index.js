import './base.css';
import './tables.css';
import './software.css';
